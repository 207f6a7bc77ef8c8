"""セグメント配信 and the similar/repeater views: preview count, one mail per customer, the side-by-side."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import Customer, CustomerGroup, MatchRule
from customers.selectors import segment_customer_ids
from notifications.models import MailCampaign, Notification
from orders.models import Order, OrderStatus
from tests.backoffice.helpers import shop_order
from tests.factories import AddressFactory, CustomerFactory, UserFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):  # noqa: ANN001, ANN201
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def _person(name: str, phone: str, email: str, **fields) -> Customer:  # noqa: ANN003
    customer = CustomerFactory(
        name=name, name_kana="", phone=phone, user=UserFactory(username=email), **fields
    )
    return customer


@pytest.fixture
def shop() -> dict[str, Customer]:
    """A repeater (2 orders), a first-timer (1), one who never bought, a blacklisted customer and
    someone who writes the blacklisted customer's name and phone differently."""
    people = {
        "repeater": _person("佐藤 一郎", "03-1111-0001", "sato@example.com", language="en"),
        "first": _person("鈴木 二郎", "03-1111-0002", "suzuki@example.com"),
        "never": _person("田中 三郎", "03-1111-0003", "tanaka@example.com"),
        "bad": _person("髙橋 四郎", "090-5555-1234", "bad@example.com", is_blacklisted=True),
        "lookalike": _person("高橋　四郎", "０９０（５５５５）１２３４", "other@example.com"),
    }
    shop_order(customer=people["repeater"])
    shop_order(customer=people["repeater"], status=OrderStatus.SHIPPED)
    shop_order(customer=people["first"])
    shop_order(customer=people["bad"])
    return people


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("repeaters", ["repeater"]),
        ("first_time", ["first"]),  # the blacklisted one-order customer is never a recipient
        ("similar_to_blacklist", ["lookalike"]),
    ],
)
def test_segments(shop, segment, expected) -> None:  # noqa: ANN001
    assert segment_customer_ids(segment=segment) == [shop[k].pk for k in expected]


def test_group_segment(shop) -> None:  # noqa: ANN001
    group = CustomerGroup.objects.create(code="gold", name="ゴールド")
    Customer.objects.filter(pk__in=[shop["never"].pk, shop["bad"].pk]).update(group=group)
    assert segment_customer_ids(segment="group", group_id=group.pk) == [shop["never"].pk]


def test_preview_counts_then_send_mails_each_customer_once(
    staff, shop, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    # when staff preview the repeaters with the shipped mail
    page = staff.post(
        reverse("backoffice:segment_mail"), {"segment": "repeaters", "event": "shipped", "preview": "1"}
    )
    html = page.content.decode()
    # then the count and the first customer's mail (in their language, filled from their newest order)
    assert '<p id="segment-count">1' in html
    assert "sato@example.com" in html
    token = page.context["form"].data["token"]
    assert len(token) == 32

    # when they send, twice with the same token (a double click)
    data = {"segment": "repeaters", "event": "shipped", "token": token, "send": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("backoffice:segment_mail"), data)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("backoffice:segment_mail"), data)

    # then one campaign, one mail to the one repeater, in English
    campaign = MailCampaign.objects.get()
    assert campaign.recipients == 1
    assert [m.to for m in mail.outbox] == [["sato@example.com"]]
    newest = Order.objects.filter(customer=shop["repeater"]).latest("id")
    assert newest.number in mail.outbox[0].body
    assert Notification.objects.get().key == f"campaign:{campaign.pk}:{shop['repeater'].pk}"


def test_group_segment_without_a_group_is_a_form_error(staff, shop) -> None:  # noqa: ANN001
    page = staff.post(
        reverse("backoffice:segment_mail"), {"segment": "group", "event": "shipped", "preview": "1"}
    )
    assert page.status_code == 200
    assert "顧客グループを選んでください。" in page.content.decode()
    assert not MailCampaign.objects.exists()


def test_order_page_shows_the_blacklisted_lookalike_side_by_side(staff, shop) -> None:  # noqa: ANN001
    order = shop_order(customer=shop["lookalike"])
    html = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'class="match-blacklist"' in html
    assert "髙橋 四郎" in html and "090-5555-1234" in html  # the blacklisted record as typed
    assert "氏名、電話番号" in html


def test_repeater_candidate_under_the_shops_rule(staff, shop) -> None:  # noqa: ANN001
    # given the repeater again under a second account, same email-less record but same name and address
    again = _person("佐藤　一郎", "", "sato2@example.com")
    for person in (shop["repeater"], again):
        AddressFactory(customer=person, postal_code="150-0001", line1="神宮前1-2-3")
    order = shop_order(customer=again)
    html = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'class="match-candidate"' in html and "リピーター候補" in html
    # a stricter rule (name, phone and email all needed) finds no candidate
    MatchRule.objects.update_or_create(
        pk=MatchRule.current().pk, defaults={"match_address": False, "min_fields": 3}
    )
    html = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'class="match-candidate"' not in html


def test_order_action_holds_open_orders_of_lookalikes(staff, shop) -> None:  # noqa: ANN001
    lookalike = shop_order(customer=shop["lookalike"], status=OrderStatus.READY)
    innocent = shop_order(customer=shop["first"], status=OrderStatus.READY)
    shipped = shop_order(customer=shop["lookalike"], status=OrderStatus.SHIPPED)
    staff.post(
        reverse("admin:orders_order_changelist"),
        {"action": "hold_similar_to_blacklist", "_selected_action": [lookalike.pk, innocent.pk, shipped.pk]},
    )
    lookalike.refresh_from_db()
    innocent.refresh_from_db()
    shipped.refresh_from_db()
    assert (lookalike.status, lookalike.hold_reasons) == (OrderStatus.ON_HOLD, ["similar_to_blacklisted"])
    assert innocent.status == OrderStatus.READY
    assert shipped.status == OrderStatus.SHIPPED
    # the list filters by the reason and shows first/repeat
    listing = staff.get(reverse("admin:orders_order_changelist") + "?hold_reason=similar_to_blacklisted")
    assert list(listing.context["cl"].queryset) == [lookalike]


def test_customer_list_filters_repeaters(staff, shop) -> None:  # noqa: ANN001
    listing = staff.get(reverse("admin:customers_customer_changelist") + "?repeater=repeater")
    assert [c.pk for c in listing.context["cl"].queryset] == [shop["repeater"].pk]
    assert "リピーター（2回）" in listing.content.decode()
