"""As staff in Chromium: filter to 出荷待ち, export cp932, fill tracking numbers, dry-run and apply.

Screenshots go to test-artifacts/backoffice/ (gitignored).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "backoffice"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_staff_ship_the_waiting_orders_by_csv(browser, live_server, settings, tmp_path) -> None:  # noqa: ANN001
    from notifications.models import Notification, NotificationStatus
    from orders.mails import order_ref
    from orders.models import Order, OrderStatus
    from tests.backoffice.helpers import shop_order
    from tests.factories import CustomerFactory, UserFactory

    settings.BACKOFFICE_UPLOAD_DIR = tmp_path / "uploads"
    from allauth.account.models import EmailAddress

    from tests.staff import staff_totp_enroll, totp_code

    staff = UserFactory(
        username="staff@example.com", email="staff@example.com", is_staff=True, is_superuser=True
    )
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    secret = staff_totp_enroll(staff)
    waiting = [
        shop_order(customer=CustomerFactory(name=name)) for name in ("髙橋 𠮷子", "佐藤 一郎", "鈴木 花")
    ]
    other = shop_order(status=OrderStatus.NEW)

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("input[name=login]", "staff@example.com")  # allauth's form: password, then TOTP
    page.fill("input[name=password]", "pass12345")
    page.press("input[name=password]", "Enter")  # (the header's language switch is a form button too)
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(secret))
    page.press("input[name=code]", "Enter")
    page.wait_for_url(lambda url: "/accounts/" not in url)  # signed in: the code's POST has landed

    # the back-office home: 出荷待ち 3
    page.goto(live_server.url + reverse("backoffice:home"))
    assert page.locator("#saved-filters tr", has_text="出荷待ち").locator(".count").inner_text() == "3"
    page.screenshot(path=ARTIFACTS / "01-home.png", full_page=True)
    page.click("#saved-ready")
    page.locator("#result_list").wait_for()
    assert page.locator("#result_list tbody tr").count() == 3

    # export the list in cp932 (the default)
    page.click("#export-csv")
    page.locator("#export-filters").wait_for()
    assert page.locator("#id_encoding").input_value() == "cp932"
    with page.expect_download() as download:
        page.click("#export-form input[name=download]")
    exported = Path(download.value.path()).read_bytes()
    rows = list(csv.reader(io.StringIO(exported.decode("cp932"))))
    assert rows[0][:5] == ["受注番号", "対応状況", "発送日", "配送業者", "配送伝票番号"]
    assert sorted(r[0] for r in rows[1:]) == sorted(o.number for o in waiting)
    assert other.number not in exported.decode("cp932")
    page.reload()
    assert "𠮷" in page.locator("#export-reports").inner_text()  # the replaced character is reported

    # the warehouse fills in the tracking numbers
    for i, row in enumerate(rows[1:]):
        row[1:5] = ["発送済み", "2027/03/12", "ヤマト運輸", f"4000-0000-{i:04d}"]
    filled = tmp_path / "shipped.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    filled.write_bytes(buffer.getvalue().encode("cp932"))

    # dry run: every change shown, nothing written
    page.goto(live_server.url + reverse("backoffice:order_updates"))
    page.set_input_files("#id_file", str(filled))
    page.click("#upload-form input[name=dry_run]")
    page.locator("#report-summary").wait_for()
    assert "変更 3件" in page.locator("#report-summary").inner_text()
    assert page.locator("#report-changes tbody tr").count() == 12
    page.screenshot(path=ARTIFACTS / "02-dry-run.png", full_page=True)
    assert not Order.objects.filter(status=OrderStatus.SHIPPED).exists()

    # apply
    page.click("#confirm-form input[name=confirm]")
    page.locator(".messagelist").get_by_text("取り込み: 変更 3件").wait_for()
    page.screenshot(path=ARTIFACTS / "03-applied.png", full_page=True)

    for order in waiting:
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.tracking_number.startswith("4000-0000-")
        mails = Notification.objects.filter(ref=order_ref(order.pk))
        assert [(m.kind, m.status) for m in mails] == [("mail:shipped", NotificationStatus.SENT)]
        assert order.tracking_number in mails[0].body
        page.goto(live_server.url + reverse("admin:orders_order_change", args=[order.pk]))
        assert page.locator("table.order-mails tr.mail-sent").count() == 1
    page.screenshot(path=ARTIFACTS / "04-order-mails.png", full_page=True)

    # the same file again: nothing to change, no second mail
    page.goto(live_server.url + reverse("backoffice:order_updates"))
    page.set_input_files("#id_file", str(filled))
    page.click("#upload-form input[name=dry_run]")
    page.locator("#nothing-to-change").wait_for()
    assert Notification.objects.filter(kind="mail:shipped").count() == 3
    page.close()
