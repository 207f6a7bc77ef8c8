"""As staff in Chromium: write an order rule, simulate it, see its counts and examples, save it, and the
next run applies it; the editor in English too. Screenshots go to test-artifacts/backoffice/ (gitignored)."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from django.urls import reverse

from tests.backoffice.test_browser import ARTIFACTS, browser  # noqa: F401 - the module's browser fixture

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONDITIONS = [
    [
        {"field": "payment_kind", "op": "eq", "value": "card"},
        {"field": "has_comment", "op": "is", "value": False},
        {"field": "is_gift", "op": "is", "value": False},
    ]
]
ACTIONS = [{"type": "set_status", "value": "ready"}, {"type": "add_tags", "value": ["確認不要"]}]


def _login(page, live_server, secret: str, email: str = "staff@example.com") -> None:  # noqa: ANN001
    from tests.staff import totp_code

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("input[name=login]", email)  # allauth's form: password, then TOTP
    page.fill("input[name=password]", "pass12345")
    page.press("input[name=password]", "Enter")  # (the header's language switch is a form button too)
    page.wait_for_url("**/2fa/authenticate/**")
    page.locator("input[name=code]").wait_for()
    page.fill("input[name=code]", totp_code(secret))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(lambda url: "/accounts/" not in url)


def test_staff_write_simulate_and_save_a_rule_that_the_next_run_applies(browser, live_server) -> None:  # noqa: ANN001, F811
    from allauth.account.models import EmailAddress

    from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
    from orders.rules.bulk import RULE_EVENT, order_rules_apply_pending
    from orders.rules.models import OrderRule
    from subscriptions.selectors import today_in_shop
    from tests.backoffice.helpers import shop_order
    from tests.factories import UserFactory
    from tests.staff import staff_totp_enroll

    staff = UserFactory(
        username="staff@example.com", email="staff@example.com", is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    secret = staff_totp_enroll(staff)
    today = today_in_shop()
    plain = shop_order(
        status=OrderStatus.NEW, payment_status=PaymentStatus.PAID, creation_date=today, rules_applied_at=None
    )
    shop_order(
        status=OrderStatus.NEW,
        payment_status=PaymentStatus.PAID,
        creation_date=today,
        customer_comment="置き配希望",
    )

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="ja-JP")
    _login(page, live_server, secret)
    page.goto(live_server.url + reverse("backoffice:rules"))
    page.click("#rule-add")

    # a typo first: the form says which field is unknown
    page.fill("#id_name", "カード・コメントなし・ギフトなし → 出荷待ち")
    page.fill("#id_conditions", '[[{"field": "payment_kindd", "op": "eq", "value": "card"}]]')
    page.fill("#id_actions", json.dumps(ACTIONS, ensure_ascii=False))
    page.uncheck("input[name=sources][value=forecast]")
    page.click("#rule-simulate")
    assert "不明な条件項目です: payment_kindd" in page.locator("#rule-errors").inner_text()

    # simulate the corrected rule: one of the two orders matches, and nothing was written
    page.fill("#id_conditions", json.dumps(CONDITIONS, ensure_ascii=False))
    page.click("#rule-simulate")
    report = page.locator("#simulation-past")
    report.wait_for()
    row = report.locator(".simulation-rule", has_text="カード・コメントなし")
    assert row.locator(".matched").inner_text() == "1"
    assert row.locator(".changed").inner_text() == "1"
    assert f"#{plain.number}" in row.inner_text()
    assert "出荷準備中" in row.inner_text()
    assert "どのルールにも一致しない 1件" in report.locator(".simulation-summary").inner_text()
    page.screenshot(path=ARTIFACTS / "rules-01-simulation-ja.png", full_page=True)
    assert not OrderRule.objects.exists()
    assert Order.objects.get(pk=plain.pk).status == OrderStatus.NEW

    # save it; the next run applies it and says so in the timeline
    page.click("#rule-save")
    page.locator("#rule-list").wait_for()
    assert "カード・コメントなし" in page.locator("#rule-list").inner_text()
    order_rules_apply_pending(run_date=today + dt.timedelta(days=1))
    assert Order.objects.get(pk=plain.pk).status == OrderStatus.READY
    assert OrderEvent.objects.get(order=plain, kind=RULE_EVENT).note.startswith("カード・コメントなし")

    # the same editor in English
    # (another staff member: a TOTP code is good once, and the first sign-in just used this one's)
    colleague = UserFactory(
        username="colleague@example.com", email="colleague@example.com", is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(user=colleague, email=colleague.email, verified=True, primary=True)
    english = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
    _login(english, live_server, staff_totp_enroll(colleague), email=colleague.email)
    english.goto(live_server.url + reverse("backoffice:rule_edit", args=[OrderRule.objects.get().pk]))
    english.uncheck("input[name=sources][value=forecast]")
    english.click("#rule-simulate")
    english.locator("#simulation-past").wait_for()
    text = english.locator("#content-main").inner_text()
    assert english.locator("#rule-simulate").get_attribute("value") == "Simulate (does not save)"
    assert "orders of the last n days" in text.lower() and "matched" in text.lower()
    english.screenshot(path=ARTIFACTS / "rules-02-simulation-en.png", full_page=True)
    english.goto(live_server.url + reverse("backoffice:rules"))
    english.screenshot(path=ARTIFACTS / "rules-03-list-en.png", full_page=True)
