"""A customer in Chromium: a card checkout in Japanese (Stripe Elements against localstripe) and a
bank-transfer checkout in English, from the course list to the thank-you page and the thanks mail.

Screenshots go to test-artifacts/storefront/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "storefront"
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


@pytest.fixture
def published(db):  # noqa: ANN001, ANN201
    from catalog.models import Product
    from notifications.services import mail_templates_install_defaults
    from pricing.models import BillingPolicy, CodFee
    from tests.factories import CourseFactory

    mail_templates_install_defaults()  # a transactional test starts without the migration's rows

    billing = BillingPolicy.current()
    billing.shipping_base_fee = 550
    billing.save()
    CodFee.objects.create(up_to_amount=10000, fee=330)
    product = Product.objects.create(sku="AOJIRU-30", name="青汁 30包", price=3980, tax_rate=8, stock=10)
    course = CourseFactory(code="aojiru", name="青汁定期コース", setup=product)
    course.min_deliveries = 3
    course.save()
    return course


def _fill_customer(page, email: str) -> None:  # noqa: ANN001
    page.fill("#id_email", email)
    page.fill("#id_name", "ブラウザ 花子")
    page.fill("#id_postal_code", "1000001")
    page.click("#postal-lookup")
    page.locator("#prefecture").wait_for()
    page.fill("#id_password", "a-long-pass-123")
    page.fill("#id_line1", "千代田1-1")


def test_card_checkout_in_japanese(browser, live_server, published, stripe_settings, mailoutbox) -> None:  # noqa: ANN001
    from orders.models import Order, PaymentStatus
    from storefront.models import FinalConfirmation
    from subscriptions.models import Subscription

    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")  # a phone
    page.goto(f"{live_server.url}/courses/?utm_source=instagram&utm_campaign=winter")
    assert "¥1,530" in page.locator("#course-aojiru").inner_text()
    page.click("#course-aojiru h2 a")
    assert "最低継続回数: 3回" in page.content()
    page.screenshot(path=ARTIFACTS / "01-course-ja.png", full_page=True)
    page.click("#start-checkout")
    _fill_customer(page, "card@example.com")
    assert "東京都" in page.locator("#prefecture").inner_text()
    assert page.input_value("#id_city") == "千代田区千代田"
    page.locator("#card-element input[placeholder=number]").wait_for()
    page.fill("#card-element input[placeholder=number]", "4242424242424242")
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "1000001")
    page.screenshot(path=ARTIFACTS / "02-checkout-ja.png", full_page=True)
    page.click("#to-confirm")
    page.locator("#place-order").wait_for()
    for section in ("quantity", "first", "later", "minimum", "payment", "delivery", "deadline", "cancel"):
        assert page.locator(f"#confirm-{section}").is_visible(), section
    assert page.inner_text("#place-order") == "注文を確定する（定期購入）"
    assert "¥10,590" in page.inner_text("#confirm-minimum")
    page.screenshot(path=ARTIFACTS / "03-confirm-ja.png", full_page=True)
    page.click("#place-order")
    page.locator("#thanks").wait_for()
    page.screenshot(path=ARTIFACTS / "04-thanks-ja.png", full_page=True)
    order = Order.objects.get()
    assert order.number in page.inner_text("#thanks")
    assert order.payment_status == PaymentStatus.PAID and order.total == 1530
    sub = Subscription.objects.get()
    assert (sub.utm_source, sub.utm_campaign, sub.payment_method.last4) == ("instagram", "winter", "4242")
    assert FinalConfirmation.objects.get().language == "ja"
    assert any("ご注文ありがとうございます" in m.subject for m in mailoutbox)


def test_bank_transfer_checkout_in_english(browser, live_server, published, mailoutbox) -> None:  # noqa: ANN001
    from orders.models import Order, PaymentStatus

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page.goto(f"{live_server.url}/courses/aojiru/")
    page.click("#lang-switch")
    page.locator("text=Subscribe to this course").wait_for()
    page.screenshot(path=ARTIFACTS / "05-course-en.png", full_page=True)
    page.click("#start-checkout")
    _fill_customer(page, "bank@example.com")
    page.check("input[name=payment_kind][value=bank_transfer]")
    assert not page.locator("#new-card").is_visible()
    page.click("#to-confirm")
    page.locator("#place-order").wait_for()
    assert page.inner_text("#place-order") == "Place the order (subscription)"
    assert "Price of the first delivery" in page.inner_text("#confirm-first")
    assert (
        "Bank transfer" in page.inner_text("#confirm-payment")
        or "bank" in page.inner_text("#confirm-payment").lower()
    )
    page.screenshot(path=ARTIFACTS / "06-confirm-en.png", full_page=True)
    page.click("#place-order")
    page.locator("#thanks").wait_for()
    assert "Thank you for your order" in page.inner_text("#thanks")
    order = Order.objects.get()
    assert order.payment_status == PaymentStatus.AWAITING_OFFLINE
    assert order.customer.language == "en"
    assert any("Thank you for your order" in m.subject for m in mailoutbox)
