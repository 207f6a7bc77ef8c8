"""The my page in headless Chromium against a live server: what a customer does with a mouse.

Screenshots go to test-artifacts/mypage/ (gitignored) so a person can look at each step.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "mypage"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def shopper(transactional_db):
    """A verified customer with a subscription 40 days out, 800 points and a coupon to use."""
    from allauth.account.models import EmailAddress

    from pricing.models import Coupon
    from pricing.services.points import points_adjust
    from subscriptions.actors import Actor
    from subscriptions.models import ShopPolicy
    from subscriptions.selectors import today_in_shop
    from tests.factories import CustomerFactory, SubscriptionFactory

    ShopPolicy.current()
    customer = CustomerFactory()
    EmailAddress.objects.create(user=customer.user, email=customer.user.email, verified=True, primary=True)
    subscription = SubscriptionFactory(customer=customer, anchor_date=today_in_shop() + timedelta(days=40))
    points_adjust(customer_id=customer.pk, amount=800, note="welcome", actor=Actor.system())
    Coupon.objects.create(code="SPRING300", name="春の300円引き", kind="fixed", value=300, applies_to="all")
    return customer, subscription


def _login(page, live_server, customer, viewport=None):
    page.goto(f"{live_server.url}/mypage/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", customer.user.email)
    page.fill("input[name=password]", "pass12345")
    page.click("main form button[type=submit]")
    page.locator("h1").get_by_text("マイページ").wait_for()


def _message(page, text):
    page.locator(".messages").get_by_text(text).wait_for()


def test_customer_manages_a_subscription(browser, live_server, shopper):
    from subscriptions.models import Subscription

    customer, subscription = shopper
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")  # a phone
    _login(page, live_server, customer)
    page.get_by_text("800 pt").wait_for()
    page.screenshot(path=ARTIFACTS / "01-home-phone.png", full_page=True)

    page.click(f"#subscription-{subscription.pk} a.button")
    page.locator("#timeline").wait_for()
    page.screenshot(path=ARTIFACTS / "02-subscription.png", full_page=True)

    # skip the next delivery, then undo it
    page.click("#skip button[name=skip]")
    _message(page, "次回のお届けをスキップしました")
    assert Subscription.objects.get(pk=subscription.pk).next_sequence == 2
    page.screenshot(path=ARTIFACTS / "03-skipped.png", full_page=True)
    page.click("#skip form.unskip button")
    _message(page, "スキップを取り消しました")
    assert Subscription.objects.get(pk=subscription.pk).next_sequence == 1

    # change the next delivery date with the date input (within its min/max)
    new_date = subscription.next_delivery_date + timedelta(days=4)
    date_input = page.locator("#id_new_date")
    assert date_input.get_attribute("min") <= new_date.isoformat() <= date_input.get_attribute("max")
    date_input.fill(new_date.isoformat())
    page.click("#change-date form > button[type=submit]")
    _message(page, "次回お届け日を変更しました")
    assert Subscription.objects.get(pk=subscription.pk).next_delivery_date == new_date

    # change the cycle to every two months
    page.select_option("#id_course_cycle", label="2ヶ月ごと")
    page.click("#change-cycle button")
    _message(page, "お届け周期を変更しました")
    assert Subscription.objects.get(pk=subscription.pk).cycle_interval == 2

    # reserve 300 points
    page.check("#points input[value=amount]")
    page.fill("#id_amount", "300")
    page.click("#points button")
    _message(page, "ポイント利用を設定しました")
    fresh = Subscription.objects.get(pk=subscription.pk)
    assert (fresh.points_reservation, fresh.points_reservation_amount) == ("amount", 300)

    # apply a coupon
    page.fill("#id_code", "spring300")
    page.click("#coupon form button")
    _message(page, "クーポンを適用しました")
    page.locator(".coupon-code").get_by_text("SPRING300").wait_for()
    page.screenshot(path=ARTIFACTS / "04-after-changes.png", full_page=True)
    page.close()


def test_customer_cancels_with_a_reason_after_seeing_alternatives(browser, live_server, shopper):
    from subscriptions.models import Subscription, SubscriptionStatus

    customer, subscription = shopper
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    _login(page, live_server, customer)
    page.goto(f"{live_server.url}/mypage/subscriptions/{subscription.pk}/")
    page.click("a.danger-link")
    page.locator("#alternatives").wait_for()
    page.screenshot(path=ARTIFACTS / "05-cancel-step1.png", full_page=True)

    # without a reason the browser's own check keeps the form from being sent
    page.click("#cancel-form button.danger")
    assert Subscription.objects.get(pk=subscription.pk).status == SubscriptionStatus.ACTIVE

    page.check("#cancel-form input[value=too_much_stock]")
    page.fill("#id_note", "まだ残っているため")
    page.click("#cancel-form button.danger")
    _message(page, "定期購入を解約しました")
    cancelled = Subscription.objects.get(pk=subscription.pk)
    assert (cancelled.status, cancelled.cancel_reason) == (SubscriptionStatus.CANCELLED, "too_much_stock")
    page.screenshot(path=ARTIFACTS / "06-cancelled.png", full_page=True)
    page.close()


def test_customer_adds_a_card_with_stripe_elements(browser, live_server, shopper, stripe_settings):
    """localstripe serves the Stripe.js stand-in; the SetupIntent and the card are real to it."""
    from subscriptions.models import Subscription

    customer, subscription = shopper
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    _login(page, live_server, customer)
    page.goto(f"{live_server.url}/mypage/subscriptions/{subscription.pk}/")
    page.click("#new-card summary")
    page.fill("#card-element input[placeholder=number]", "4242424242424242")
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "1000001")
    page.screenshot(path=ARTIFACTS / "07-card-form.png", full_page=True)
    page.click("#card-submit")
    _message(page, "カードを登録してお支払い方法を変更しました")
    method = Subscription.objects.select_related("payment_method").get(pk=subscription.pk).payment_method
    assert method is not None and method.last4 == "4242"
    page.close()


def test_customer_adds_one_off_items_in_japanese_and_in_english(browser, live_server, shopper):
    """ついで買い with the page as served (htmx on): add, change, remove, a refusal; then in English."""
    from subscriptions.models import SubscriptionAddon
    from tests.factories import ProductFactory

    customer, subscription = shopper
    ProductFactory(name="黒酢ドリンク", price=1500, stock=3, addon_available=True)
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    _login(page, live_server, customer)
    page.goto(f"{live_server.url}/mypage/subscriptions/{subscription.pk}/")
    section = page.locator("#addons")
    section.get_by_text("ついで買い（次回のお届けのみ）").wait_for()

    page.select_option("#id_addon_product", label="黒酢ドリンク（¥1,500）")
    page.fill("#id_addon_quantity", "2")
    page.click("#addon-add-form button")
    _message(page, "次回のお届けに商品を追加しました")
    page.locator(".price-line", has_text="黒酢ドリンク").get_by_text("次回のみ").wait_for()
    page.locator(".price-line", has_text="黒酢ドリンク").get_by_text("¥3,000").wait_for()
    page.screenshot(path=ARTIFACTS / "08-addon-added-ja.png", full_page=True)
    addon = SubscriptionAddon.objects.get(subscription=subscription)
    assert addon.quantity == 2

    # more than is in stock: refused in words, nothing changes
    page.fill(f"#id_addon_qty_{addon.pk}", "5")
    page.click(f"#addon-{addon.pk} form:not(.inline) button")
    _message(page, "在庫が不足しています（残り3個）")
    assert SubscriptionAddon.objects.get(pk=addon.pk).quantity == 2
    page.fill(f"#id_addon_qty_{addon.pk}", "1")
    page.click(f"#addon-{addon.pk} form:not(.inline) button")
    _message(page, "次回のみ追加する商品の数量を変更しました")
    assert SubscriptionAddon.objects.get(pk=addon.pk).quantity == 1
    page.click(f"#addon-{addon.pk} form.inline button")
    _message(page, "次回のみ追加する商品を取り消しました")
    assert not SubscriptionAddon.objects.exists()

    # the same in English, through the language switch
    page.click("form.lang button[name=language][value=en]")
    page.goto(f"{live_server.url}/mypage/subscriptions/{subscription.pk}/")
    section.get_by_text("One-off items (next delivery only)").wait_for()
    page.select_option("#id_addon_product", label="黒酢ドリンク (¥1,500)")
    page.click("#addon-add-form button")
    _message(page, "Added an item to your next delivery")
    page.locator(".price-line", has_text="黒酢ドリンク").get_by_text("Next order only").wait_for()
    page.fill("#id_addon_quantity", "9")
    page.click("#addon-add-form button")
    _message(page, "Not enough stock of")
    page.screenshot(path=ARTIFACTS / "09-addon-en.png", full_page=True)
    assert SubscriptionAddon.objects.get().quantity == 1
    page.close()
