"""ついで買い: what a customer (or the shop) may add to the next delivery only, until when, and the timeline."""

from __future__ import annotations

import pytest

from catalog.models import GroupPrice, ProductSalePrice, QuantityTier
from core.errors import DomainError
from customers.models import CustomerGroup
from orders.models import Order
from pricing.selectors import subscription_next_order_price
from subscriptions.models import ShopPolicy, SubscriptionAddon
from subscriptions.services import (
    subscription_add_addon,
    subscription_cancel,
    subscription_change_addon,
    subscription_pause,
    subscription_remove_addon,
    subscription_skip_next,
)
from tests.factories import ProductFactory, SubscriptionFactory

from .services_helpers import admin_actor, customer_actor, d, events, on

pytestmark = pytest.mark.django_db

# The factory's subscription: next 1/31, its order created 1/25, the customer's deadline 1/23.
TODAY = d("2027-01-05")


def _offered(**fields: object):  # noqa: ANN202
    return ProductFactory(price=1500, tax_rate=8, addon_available=True, **fields)


def _add(sub, product, quantity=1, who=None):  # noqa: ANN001, ANN202
    return subscription_add_addon(
        subscription_id=sub.pk, product_id=product if isinstance(product, int) else product.pk,
        quantity=quantity, actor=who or customer_actor(sub),
    )  # fmt: skip


def test_a_customer_adds_a_product_to_the_next_delivery_and_the_timeline_says_so() -> None:
    sub = SubscriptionFactory()
    product = _offered(stock=5)
    with on(TODAY):
        addon = _add(sub, product, 2)
        again = _add(sub, product, 1)  # the same product again: one line, the quantities add up
    assert addon.pk == again.pk and again.quantity == 3 and again.order_id is None
    first, second = events(sub)
    assert (first.kind, first.actor_kind, first.actor_id) == ("addon_added", "customer", sub.customer.user_id)
    assert (first.before, first.after) == ({"addons": {}}, {"addons": {str(product.pk): 2}})
    assert (second.before, second.after) == (
        {"addons": {str(product.pk): 2}},
        {"addons": {str(product.pk): 3}},
    )
    assert product.stock == 5  # stock is taken when the order is created, not now


def _refusal_cases():  # noqa: ANN202
    return [
        # (what is wrong, setup returning (product id, quantity), code, status)
        ("unknown product", lambda sub: (999_999, 1), "product_not_found", 404),
        ("not offered for add-on", lambda sub: (ProductFactory(addon_available=False).pk, 1), "product_not_offered", 400),
        ("not on sale", lambda sub: (_offered(is_active=False).pk, 1), "product_not_offered", 400),
        ("a pre-order", lambda sub: (_offered(is_preorder=True).pk, 1), "product_not_offered", 400),
        ("sold out", lambda sub: (_offered(stock=0).pk, 1), "out_of_stock", 409),
        ("more than in stock", lambda sub: (_offered(stock=2).pk, 3), "out_of_stock", 409),
        ("quantity 0", lambda sub: (_offered().pk, 0), "invalid_quantity", 400),
        ("quantity 100", lambda sub: (_offered().pk, 100), "invalid_quantity", 400),
        ("quantity as text", lambda sub: (_offered().pk, "2"), "invalid_quantity", 400),
        ("quantity true", lambda sub: (_offered().pk, True), "invalid_quantity", 400),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "setup", "code", "status"), _refusal_cases(), ids=[c[0] for c in _refusal_cases()]
)
def test_refusals_have_a_code_a_status_and_words(case, setup, code, status) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    product_id, quantity = setup(sub)
    with on(TODAY), pytest.raises(DomainError) as exc:
        subscription_add_addon(
            subscription_id=sub.pk, product_id=product_id, quantity=quantity, actor=customer_actor(sub)
        )
    assert (exc.value.code, exc.value.status) == (code, status)
    assert exc.value.message
    assert not SubscriptionAddon.objects.exists() and events(sub) == []


def test_the_stock_refusal_says_how_many_are_left() -> None:
    sub = SubscriptionFactory()
    product = _offered(stock=2, name="黒酢ドリンク")
    with on(TODAY), pytest.raises(DomainError) as exc:
        _add(sub, product, 3)
    assert "黒酢ドリンク" in exc.value.message and "2" in exc.value.message


def test_adding_past_99_in_all_is_refused() -> None:
    sub = SubscriptionFactory()
    product = _offered()
    with on(TODAY):
        _add(sub, product, 60)
        with pytest.raises(DomainError) as exc:
            _add(sub, product, 40)
    assert exc.value.code == "invalid_quantity"
    assert SubscriptionAddon.objects.get().quantity == 60


@pytest.mark.parametrize("status", ["paused", "suspended", "cancelled"])
@pytest.mark.parametrize("who", ["customer", "admin"])
def test_only_an_active_subscription_takes_add_ons(status, who) -> None:  # noqa: ANN001
    sub = SubscriptionFactory(status=status)
    actor = customer_actor(sub) if who == "customer" else admin_actor()
    with on(TODAY), pytest.raises(DomainError) as exc:
        _add(sub, _offered(), 1, actor)
    assert exc.value.code == "invalid_status"


def test_the_shop_can_turn_add_ons_off_for_customers(policy) -> None:  # noqa: ANN001
    ShopPolicy.objects.filter(pk=policy.pk).update(allow_addons=False)
    sub = SubscriptionFactory()
    with on(TODAY):
        with pytest.raises(DomainError) as exc:
            _add(sub, _offered())
        assert (exc.value.code, exc.value.status) == ("not_allowed", 403)
        _add(sub, _offered(), 1, admin_actor())  # the shop itself still may


def test_another_customers_subscription_is_not_found() -> None:
    sub, stranger = SubscriptionFactory(), SubscriptionFactory()
    with on(TODAY), pytest.raises(DomainError) as exc:
        _add(sub, _offered(), 1, customer_actor(stranger))
    assert (exc.value.code, exc.value.status) == ("subscription_not_found", 404)


# The deadline's edges, frozen in the shop's time zone: 1/23 is the last day (23:59 still counts).
@pytest.mark.parametrize(
    ("day", "hour", "customer_may"),
    [("2027-01-22", 10, True), ("2027-01-23", 0, True), ("2027-01-23", 23, True), ("2027-01-24", 0, False),
     ("2027-01-25", 10, False)],
)  # fmt: skip
@pytest.mark.parametrize("action", ["add", "change", "remove"])
def test_customers_change_add_ons_until_the_change_deadline_and_the_shop_after(
    day, hour, customer_may, action
) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    product = _offered()
    with on(TODAY):
        existing = _add(sub, product, 1)
    calls = {
        "add": lambda who: _add(sub, _offered(), 1, who),
        "change": lambda who: subscription_change_addon(subscription_id=sub.pk, addon_id=existing.pk, quantity=2, actor=who),
        "remove": lambda who: subscription_remove_addon(subscription_id=sub.pk, addon_id=existing.pk, actor=who),
    }  # fmt: skip
    with on(d(day), hour):
        if customer_may:
            calls[action](customer_actor(sub))
        else:
            with pytest.raises(DomainError) as exc:
                calls[action](customer_actor(sub))
            assert exc.value.code == "deadline_passed" and "1月23日" in exc.value.message
            calls[action](admin_actor())
    last = events(sub)[-1]
    assert last.kind == {"add": "addon_added", "change": "addon_changed", "remove": "addon_removed"}[action]
    assert last.actor_kind == ("customer" if customer_may else "admin")


def test_change_and_remove_write_before_and_after() -> None:
    sub = SubscriptionFactory()
    tea, vinegar = _offered(stock=10), _offered(stock=10)
    with on(TODAY):
        a = _add(sub, tea, 1)
        _add(sub, vinegar, 2)
        subscription_change_addon(
            subscription_id=sub.pk, addon_id=a.pk, quantity=4, actor=customer_actor(sub)
        )
        subscription_remove_addon(subscription_id=sub.pk, addon_id=a.pk, actor=customer_actor(sub))
    changed, removed = events(sub)[-2:]
    assert changed.before == {"addons": {str(tea.pk): 1, str(vinegar.pk): 2}}
    assert changed.after == {"addons": {str(tea.pk): 4, str(vinegar.pk): 2}}
    assert (removed.kind, removed.after) == ("addon_removed", {"addons": {str(vinegar.pk): 2}})


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [(lambda sub, a: subscription_change_addon(subscription_id=sub.pk, addon_id=a.pk, quantity=0, actor=customer_actor(sub)), "invalid_quantity", 400),
     (lambda sub, a: subscription_change_addon(subscription_id=sub.pk, addon_id=a.pk, quantity=9, actor=customer_actor(sub)), "out_of_stock", 409),
     (lambda sub, a: subscription_change_addon(subscription_id=sub.pk, addon_id=987654, quantity=1, actor=customer_actor(sub)), "addon_not_found", 404),
     (lambda sub, a: subscription_remove_addon(subscription_id=sub.pk, addon_id=987654, actor=customer_actor(sub)), "addon_not_found", 404)],
    ids=["quantity-0", "more-than-stock", "unknown-change", "unknown-remove"],
)  # fmt: skip
def test_change_refusals(change, code, status) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    with on(TODAY):
        addon = _add(sub, _offered(stock=5), 2)
        with pytest.raises(DomainError) as exc:
            change(sub, addon)
    assert (exc.value.code, exc.value.status) == (code, status)
    assert SubscriptionAddon.objects.get().quantity == 2


def test_another_subscriptions_add_on_is_not_found() -> None:
    mine, other = SubscriptionFactory(), SubscriptionFactory()
    with on(TODAY):
        theirs = _add(other, _offered(), 1)
        with pytest.raises(DomainError) as exc:
            subscription_remove_addon(subscription_id=mine.pk, addon_id=theirs.pk, actor=customer_actor(mine))
    assert exc.value.code == "addon_not_found"


def test_an_add_on_on_its_order_can_no_longer_change() -> None:
    sub = SubscriptionFactory()
    with on(TODAY):
        addon = _add(sub, _offered(), 1)
    order = Order.objects.create(customer=sub.customer, subscription=sub, sequence=1, creation_date=TODAY)
    SubscriptionAddon.objects.filter(pk=addon.pk).update(order=order)
    with on(TODAY):
        for call in (
            lambda: subscription_change_addon(subscription_id=sub.pk, addon_id=addon.pk, quantity=2, actor=admin_actor()),
            lambda: subscription_remove_addon(subscription_id=sub.pk, addon_id=addon.pk, actor=admin_actor()),
        ):  # fmt: skip
            with pytest.raises(DomainError) as exc:
                call()
            assert (exc.value.code, exc.value.status) == ("addon_on_order", 409)
        # and a new one for the next order is a new line
        again = _add(sub, addon.product, 1)
    assert again.pk != addon.pk


@pytest.mark.parametrize("step", ["pause", "cancel"])
def test_pausing_or_cancelling_takes_the_add_ons_off(step) -> None:  # noqa: ANN001
    sub = SubscriptionFactory()
    with on(TODAY):
        _add(sub, _offered(), 2)
        if step == "pause":
            subscription_pause(subscription_id=sub.pk, actor=customer_actor(sub))
        else:
            subscription_cancel(subscription_id=sub.pk, reason="price", actor=admin_actor())
    assert not SubscriptionAddon.objects.exists()
    dropped = next(e for e in events(sub) if e.kind == "addon_removed")
    assert dropped.after == {"addons": {}} and dropped.note


def test_a_skip_keeps_the_add_on_for_the_delivery_that_is_now_next() -> None:
    sub = SubscriptionFactory()
    with on(TODAY):
        _add(sub, _offered(), 1)
        subscription_skip_next(subscription_id=sub.pk, actor=customer_actor(sub))
    assert SubscriptionAddon.objects.filter(order__isnull=True).count() == 1


def test_the_next_order_price_has_the_add_on_at_its_one_off_price() -> None:
    # given a subscription (its course sells the product at ¥980 for the first delivery) and two
    # add-ons: the course's own product, and another with a sale, a tier and a group price
    sub = SubscriptionFactory()
    course_product = sub.items.get().product
    course_product.addon_available = True
    course_product.save()
    other = _offered()
    ProductSalePrice.objects.create(product=other, unit_price=1400, starts_on=d("2027-01-01"))
    QuantityTier.objects.create(product=other, min_quantity=3, unit_price=1300)
    group = CustomerGroup.objects.create(code="gold", name="ゴールド")
    GroupPrice.objects.create(group=group, product=other, unit_price=1350)
    sub.customer.group = group
    sub.customer.save()
    with on(TODAY):
        _add(sub, course_product, 1)
        _add(sub, other, 2)
        priced = subscription_next_order_price(subscription=sub, on=TODAY, gift_wrapping=False)
    # then the course line keeps its per-delivery price, the add-ons come last at one-off prices:
    # the course product at its list price, the other at the lowest of sale (1400) and group (1350)
    assert [(line.product_id, line.quantity, line.unit_price) for line in priced.lines] == [
        (course_product.pk, 1, 980),
        (course_product.pk, 1, 3980),
        (other.pk, 2, 1350),
    ]
    assert priced.items_subtotal == 980 + 3980 + 2700
    with on(TODAY):
        _add(sub, other, 1)  # 3 of them reach the tier price
        assert (
            subscription_next_order_price(subscription=sub, on=TODAY, gift_wrapping=False)
            .lines[-1]
            .unit_price
            == 1300
        )
