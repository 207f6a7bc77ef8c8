"""The demo exactly as `make run` serves it, driven in Chromium as the demo customer.

One server for the module, started from the Makefile's own `run` recipe (config.settings.local,
SQLite, seed_demo, serve_demo with its localstripe and the Stripe.js stand-in it serves), and one
browser page that clicks through every action of the subscription page. After each click the
demo's database (read from its SQLite file) and the page must both say what happened. The
scripts are the demo's: htmx, card.js and localstripe's Stripe.js on every page that offers a card.

Nothing here depends on today's date: dates are read from the page and the database, and the
nightly run for the 3-D Secure charge is asked for the subscription's own creation date.
Screenshots go to test-artifacts/demo/ (gitignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from billing.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY, free_port
from tests.demo_process import ROOT, DemoDatabase, demo_env, start_demo

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "demo"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SUBSCRIPTION = "SELECT * FROM subscriptions_subscription WHERE source = 'demo:aojiru'"


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = DemoDatabase(tmp / "demo.sqlite3")
        self.server = start_demo(database=self.db.path, host="127.0.0.1", port=self.port)
        self.stripe_url = self.server.wait_for(r"localstripe \(Stripe stand-in\) on (\S+);").group(1)
        # The nightly run at start creates and charges the first order; let it finish first.
        self.server.wait_for(r"nightly \S+: (done|already done)", timeout=120)

    def subscription(self) -> dict:
        return self.db.row(SUBSCRIPTION)

    def card_id(self, last4: str) -> int:
        return self.db.row("SELECT id FROM billing_paymentmethod WHERE last4 = ? AND is_active", last4)["id"]

    def run_nightly(self, day: date) -> None:
        """`manage.py run_nightly` in another terminal beside the demo, on its database and localstripe."""
        env = demo_env(
            DATABASE_URL=f"sqlite:///{self.db.path}",
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
            STRIPE_API_BASE=self.stripe_url,
            SITE_URL=self.url,
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "run_nightly", "--date", day.isoformat()],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo = Demo(tmp_path_factory.mktemp("demo"))
    try:
        yield demo
    finally:
        assert demo.server.terminate() == 0


@pytest.fixture(scope="module")
def page(demo):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.errors, page.posts = [], []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("console", lambda m: page.errors.append(m.text) if "htmx:" in m.text else None)
        page.on(
            "request",
            lambda r: page.posts.append((r.url, r.headers.get("hx-request"))) if r.method == "POST" else None,
        )
        yield page
        browser.close()


def _done(page, message: str) -> None:
    """Wait for the message the page shows after a change: exactly this one, on the new page."""
    wanted = re.compile(rf"^{re.escape(message)}(。確認メールをお送りしました。)?$")
    try:
        page.locator(".messages .message.success").filter(has_text=wanted).wait_for(timeout=20_000)
    except Exception:
        _shot(page, "failed")
        shown = page.locator(".messages").all_inner_texts()
        raise AssertionError(f"no message {message!r} on {page.url}; shown: {shown}") from None


def _click(page, selector: str, message: str) -> None:
    """Click, then wait for `message` (the messages shown before are removed first)."""
    page.evaluate("document.querySelectorAll('.messages').forEach((element) => element.remove())")
    page.click(selector)
    _done(page, message)


def _shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def _yen(page, selector: str) -> int:
    return int(re.sub(r"[^\d]", "", page.locator(selector).inner_text()))


def _open_subscription(page, demo, subscription_id: int) -> None:
    page.goto(f"{demo.url}/mypage/subscriptions/{subscription_id}/")
    page.locator("#timeline").wait_for()
    page.wait_for_function("typeof window.Stripe === 'function'")  # the demo's Stripe.js stand-in


def test_the_demo_customer_uses_every_action_of_the_subscription_page(demo, page):
    # Sign in as the README says, see the demo's points on the home page.
    page.goto(f"{demo.url}/mypage/")
    page.fill("input[name=login]", "demo@example.com")
    page.fill("input[name=password]", "demo12345")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{demo.url}/mypage/")
    page.get_by_text("1,000 pt").first.wait_for()
    _shot(page, "01-home")
    start = demo.subscription()
    sub_id = start["id"]
    page.click(f"#subscription-{sub_id} a.button")
    page.locator("#timeline").wait_for()
    page.wait_for_function("typeof window.Stripe === 'function'")
    # The stand-in is loaded and the DOM's Element is still the DOM's (what htmx relies on).
    assert page.evaluate("document.body instanceof Element && Element === window.Element")
    _shot(page, "02-subscription")

    _skip_and_undo(page, demo, start)
    _next_date_cycle_slot_quantity(page, demo)
    _address(page, demo)
    _payment_method(page, demo)
    _points_and_coupon(page, demo)
    _pause_resume_cancel_restart(page, demo)
    _open_subscription(page, demo, sub_id)
    _three_d_secure(page, demo)

    # Every change went through htmx (a boosted request), except the card form, which posts itself.
    actions = [(url, hx) for url, hx in page.posts if "/mypage/subscriptions/" in url]
    assert len(actions) >= 20
    assert [url for url, hx in actions if hx != "true" and not url.endswith("/card/new/")] == []
    assert page.errors == []


def _skip_and_undo(page, demo, start) -> None:
    _click(page, "#skip button[name=skip]", "次回のお届けをスキップしました")
    skipped = demo.subscription()
    assert skipped["next_sequence"] == start["next_sequence"] + 1
    assert str(start["next_sequence"]) in skipped["skipped_sequences"]
    page.locator("#skip form.unskip").wait_for()
    # The confirmation email links to the demo as served (its host and port), not to :8000.
    mail = demo.db.rows("SELECT body FROM notifications_notification WHERE kind = 'mypage_change'")[-1]
    assert f"{demo.url}/mypage/subscriptions/{start['id']}/" in mail["body"]

    _click(page, "#skip form.unskip button", "スキップを取り消しました")
    undone = demo.subscription()
    assert (undone["next_sequence"], undone["next_delivery_date"]) == (
        start["next_sequence"],
        start["next_delivery_date"],
    )
    assert page.locator("#skip form.unskip").count() == 0


def _next_date_cycle_slot_quantity(page, demo) -> None:
    current = demo.subscription()["next_delivery_date"]
    chips = page.locator("#change-date .suggestions button.chip")
    value = next(
        v for v in (chips.nth(i).get_attribute("value") for i in range(chips.count())) if v != current
    )
    _click(page, f"#change-date button.chip[value='{value}']", "次回お届け日を変更しました")
    assert demo.subscription()["next_delivery_date"] == value
    assert value.replace("-", "/") in page.locator(".next-delivery-date").inner_text()

    page.select_option("#id_course_cycle", label="2ヶ月ごと")
    _click(page, "#change-cycle button", "お届け周期を変更しました")
    assert (demo.subscription()["cycle_unit"], demo.subscription()["cycle_interval"]) == ("month", 2)
    assert page.locator(".cycle-label").inner_text() == "2ヶ月ごと"

    page.select_option("#id_time_slot", "14-16")
    _click(page, "#time-slot button", "お届け時間帯を変更しました")
    assert demo.subscription()["delivery_time_slot"] == "14-16"
    assert page.locator("#summary").get_by_text("14時〜16時").count() == 1

    item = demo.db.row(
        "SELECT id, product_id, quantity FROM subscriptions_subscriptionitem WHERE subscription_id = ?",
        demo.subscription()["id"],
    )
    subtotal = _yen(page, ".items-subtotal")
    page.fill(f"#id_qty_{item['product_id']}", str(item["quantity"] + 1))
    _click(page, "#quantities button", "数量を変更しました")
    assert demo.db.row("SELECT quantity FROM subscriptions_subscriptionitem WHERE id = ?", item["id"]) == {
        "quantity": item["quantity"] + 1
    }
    assert _yen(page, ".items-subtotal") == subtotal // item["quantity"] * (item["quantity"] + 1)
    _shot(page, "03-after-changes")


def _address(page, demo) -> None:
    home = demo.subscription()["shipping_address_id"]
    page.click("#address a")  # add a new address, then ship there
    page.fill("#id_postal_code", "530-0001")
    page.select_option("#id_prefecture", "大阪府")
    page.fill("#id_city", "大阪市北区梅田")
    page.fill("#id_line1", "1-1-1")
    page.fill("#id_phone", "06-1234-5678")
    _click(page, "main form button[type=submit]", "お届け先を追加して変更しました")
    added = demo.db.row("SELECT id FROM customers_address WHERE postal_code = '530-0001'")["id"]
    assert demo.subscription()["shipping_address_id"] == added
    assert "大阪府大阪市北区梅田" in page.locator(".current-address").inner_text()

    page.select_option("#id_address_id", str(home))  # and back to the saved one
    _click(page, "#address form button", "お届け先を変更しました")
    assert demo.subscription()["shipping_address_id"] == home
    assert "東京都" in page.locator(".current-address").inner_text()


def _payment_method(page, demo) -> None:
    # A new card through Stripe Elements on localstripe; this one asks for 3-D Secure when saved.
    page.click("#new-card summary")
    page.fill("#card-element input[placeholder=number]", "4000002500003155")
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "1500001")
    _shot(page, "04-card-form")
    page.click("#card-submit")
    page.get_by_role("button", name="Complete authentication").click()  # localstripe's 3-D Secure
    _done(page, "カードを登録してお支払い方法を変更しました")
    assert demo.subscription()["payment_method_id"] == demo.card_id("3155")
    page.wait_for_function("typeof window.Stripe === 'function'")

    for last4 in ("4242", "3155"):  # the saved cards, each way
        page.select_option("#id_payment_method_id", str(demo.card_id(last4)))
        _click(page, "#payment-method form[action$='/payment-method/'] button", "お支払い方法を変更しました")
        assert demo.subscription()["payment_method_id"] == demo.card_id(last4)
        assert page.locator("#id_payment_method_id option:checked").inner_text().endswith(last4)


def _points_and_coupon(page, demo) -> None:
    total = _yen(page, ".next-order-total")
    page.check("#points input[value=all]")
    _click(page, "#points button", "ポイント利用を設定しました")
    assert demo.subscription()["points_reservation"] == "all"
    assert page.locator(".points-used").inner_text() == "-1,000 pt"
    assert _yen(page, ".next-order-total") == total - 1000

    page.fill("#id_code", "demo500")
    _click(page, "#coupon form button", "クーポンを適用しました")
    coupon = demo.db.row("SELECT id FROM billing_coupon WHERE code = 'DEMO500'")["id"]
    assert demo.subscription()["coupon_id"] == coupon
    assert page.locator(".coupon-discount").inner_text() == "-¥500"
    assert _yen(page, ".next-order-total") == total - 1000 - 500
    _shot(page, "05-points-and-coupon")

    _click(page, "#coupon form button.secondary", "クーポンを取り外しました")
    assert demo.subscription()["coupon_id"] is None
    assert page.locator(".coupon-discount").count() == 0


def _pause_resume_cancel_restart(page, demo) -> None:
    # Cancelling starts with an offer: skip or pause instead. Take the skip, then undo it.
    before = demo.subscription()
    page.click("a.danger-link")
    page.locator("#alternatives").wait_for()
    _shot(page, "06-cancel-offer")
    _click(page, "#alternatives form[action$='/skip/'] button", "次回のお届けをスキップしました")
    assert demo.subscription()["next_sequence"] == before["next_sequence"] + 1
    assert demo.subscription()["status"] == "active"
    _click(page, "#skip form.unskip button", "スキップを取り消しました")

    _click(page, "#status-actions form[action$='/pause/'] button", "定期購入を休止しました")
    assert demo.subscription()["status"] == "paused"
    assert page.locator("#subscription-status").inner_text() == "休止中"
    _click(page, "#status-actions form[action$='/resume/'] button", "定期購入を再開しました")
    assert demo.subscription()["status"] == "active"
    assert page.locator("#subscription-status").inner_text() == "継続中"

    # This course asks for three deliveries before it can be cancelled: refused, in words.
    page.click("a.danger-link")
    _cancel_with_a_reason(page)
    page.locator(".messages .message.error").get_by_text("3回以上のお受け取りが必要です").wait_for()
    assert demo.subscription()["status"] == "active"

    # The demo's other subscription (paused, no minimum): resume, cancel after the offer, restart.
    supple = demo.db.row("SELECT id, status FROM subscriptions_subscription WHERE source = 'demo:supple'")
    assert supple["status"] == "paused"
    _open_subscription(page, demo, supple["id"])
    _click(page, "#status-actions form[action$='/resume/'] button", "定期購入を再開しました")
    status = "SELECT status, cancel_reason FROM subscriptions_subscription WHERE id = ?"
    assert demo.db.row(status, supple["id"])["status"] == "active"
    page.click("a.danger-link")
    page.locator("#alternatives form[action$='/pause/']").wait_for()
    _cancel_with_a_reason(page)
    _done(page, "定期購入を解約しました")
    assert demo.db.row(status, supple["id"]) == {"status": "cancelled", "cancel_reason": "too_much_stock"}
    assert page.locator("#subscription-status").inner_text() == "解約済み"
    _shot(page, "07-cancelled")
    _click(page, "#status-actions form[action$='/restart/'] button", "定期購入を再開しました")
    assert demo.db.row(status, supple["id"])["status"] == "active"
    assert page.locator("#subscription-status").inner_text() == "継続中"


def _cancel_with_a_reason(page) -> None:
    page.locator("#cancel-form").wait_for()
    page.evaluate("document.querySelectorAll('.messages').forEach((element) => element.remove())")
    page.check("#cancel-form input[value=too_much_stock]")
    page.fill("#id_note", "まだ残っているため")
    page.click("#cancel-form button.danger")


def _three_d_secure(page, demo) -> None:
    """The next order is charged to the 3155 card saved above: the email's link completes it."""
    subscription = demo.subscription()
    assert subscription["payment_method_id"] == demo.card_id("3155")
    tomorrow = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)  # today's run is done
    demo.run_nightly(max(date.fromisoformat(subscription["next_creation_date"]), tomorrow))
    order = demo.db.row(
        "SELECT id, payment_status FROM orders_order WHERE subscription_id = ? AND sequence = ?",
        subscription["id"],
        subscription["next_sequence"],
    )
    assert order["payment_status"] == "action_required"
    mail = demo.db.rows("SELECT body FROM notifications_notification WHERE kind = 'payment_action_required'")
    link = re.search(r"http://\S+/billing/\S+", mail[-1]["body"]).group(0)
    assert link.startswith(f"{demo.url}/")

    page.goto(link)
    page.click("#authenticate")
    page.get_by_role("button", name="Complete authentication").click()
    page.locator("#result").get_by_text("お支払いが完了しました").wait_for(timeout=20_000)
    _shot(page, "08-3d-secure-done")
    paid = demo.db.row("SELECT payment_status FROM orders_order WHERE id = ?", order["id"])
    assert paid["payment_status"] in ("paid", "authorized")
    attempts = demo.db.rows("SELECT status FROM billing_paymentattempt WHERE order_id = ?", order["id"])
    assert [a["status"] for a in attempts] in (["succeeded"], ["authorized"])
