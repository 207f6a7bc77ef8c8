"""Walking the rules over a new order before its payment is known (orders.rules.partial, pure)."""

from __future__ import annotations

import pytest

from orders.rules import engine as e
from orders.rules.partial import expected_after_charge, rule_matches_known, walk_before_payment

TRANSITIONS = {
    "new": {"on_hold", "awaiting_payment", "ready", "cancelled"},
    "on_hold": {"new", "cancelled"},
    "ready": {"shipped", "on_hold", "cancelled"},
}


def order(**values) -> e.OrderFacts:  # noqa: ANN003
    base = {"payment_kind": "card", "payment_status": "unpaid", "total": 3980, "is_gift": False}
    return e.OrderFacts(
        order_id=1,
        state=e.OrderState(status="new", delivery_method="parcel"),
        values={**base, **values},
        can_ship=False,
        fitting_methods=frozenset({"parcel", "mail_bin"}),
    )


def rule(groups, *actions, stop: bool = False, name: str = "r") -> e.Rule:  # noqa: ANN001
    return e.Rule(
        id=1,
        name=name,
        groups=tuple(tuple(e.Condition(*c) for c in g) for g in groups),
        actions=tuple(e.Action(*a) for a in actions) or (e.Action("add_tags", ("t",)),),
        stop=stop,
    )


CARD = ("payment_kind", "eq", "card")
COD = ("payment_kind", "eq", "cod")
PAID = ("payment_status", "eq", "paid")
HELD = ("hold_reasons", "not_empty", None)
NEW = ("status", "eq", "new")


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([], True),  # no condition: every order
        ([[CARD]], True),
        ([[COD]], False),
        ([[PAID]], None),  # the payment decides
        ([[CARD, PAID]], None),  # AND: true and unknown is unknown
        ([[COD, PAID]], False),  # AND: false whatever the payment
        ([[COD], [PAID]], None),  # OR: false or unknown is unknown
        ([[CARD], [PAID]], True),  # OR: true whatever the payment
        ([[HELD]], None),  # the charge may hold the order
        ([[NEW]], None),  # the charge moves the status
        ([[("tags", "empty", None)]], True),  # tags: the charge leaves them
    ],
)
def test_a_condition_on_what_the_charge_changes_is_not_known_yet(groups, expected) -> None:  # noqa: ANN001
    f = order()
    assert (
        rule_matches_known(rule(groups), f, f.state, {"status", "payment_status", "hold_reasons"}) is expected
    )


@pytest.mark.parametrize(
    ("rules", "walks_now", "tags"),
    [
        ([rule([[CARD]], ("add_tags", ("card",)))], True, ("card",)),
        ([rule([[CARD]], ("set_delivery_method", "mail_bin"))], True, ()),
        ([rule([[CARD]], ("set_status", "ready"))], False, None),  # 出荷待ち needs the payment
        ([rule([[CARD]], ("hold", "要確認"))], False, None),  # a hold keeps it from the charge
        ([rule([[CARD]], ("send_mail", "on_hold"))], False, None),  # a mail shows the order as it is
        ([rule([[COD]], ("set_status", "ready"))], True, ()),  # that rule does not match
        ([rule([[PAID]], ("add_tags", ("paid",)))], False, None),
        # a stop rule ends the walk before the one that would wait
        ([rule([[CARD]], ("add_tags", ("a",)), stop=True), rule([[PAID]])], True, ("a",)),
        # rules see the tags earlier rules added
        (
            [
                rule([[CARD]], ("add_tags", ("a",))),
                rule([[("tags", "has_any", frozenset({"a"}))]], ("add_tags", ("b",))),
            ],
            True,
            ("a", "b"),
        ),
    ],
)
def test_a_walk_moves_to_the_creation_only_when_the_payment_cannot_change_it(rules, walks_now, tags) -> None:  # noqa: ANN001
    outcome = walk_before_payment(rules, order(), transitions=TRANSITIONS)
    assert (outcome is not None) is walks_now
    if outcome is not None:
        assert outcome.after.tags == tags
        assert outcome.after.status == "new"


def test_a_walk_that_moves_now_is_the_walk_after_the_charge() -> None:
    rules = [rule([[CARD]], ("add_tags", ("card",))), rule([[COD]], ("add_tags", ("cod",)))]
    now = walk_before_payment(rules, order(), transitions=TRANSITIONS)
    paid = e.OrderFacts(
        order_id=1, state=e.OrderState(status="ready", delivery_method="parcel"),
        values={**order().values, "payment_status": "paid"}, can_ship=True,
        fitting_methods=frozenset({"parcel", "mail_bin"}),
    )  # fmt: skip
    later = e.evaluate(rules, paid, transitions=TRANSITIONS)
    assert [(a.before, a.after) for a in now.applied] == [(a.before, a.after) for a in later.applied]


@pytest.mark.parametrize(
    ("kind", "total", "expected"),
    [
        ("card", 3980, ("ready", "paid")),
        ("", 3980, ("ready", "paid")),
        ("cod", 3980, ("ready", "awaiting_offline")),
        ("bank_transfer", 3980, ("awaiting_payment", "awaiting_offline")),
        ("konbini", 3980, ("awaiting_payment", "awaiting_offline")),
        ("card", 0, ("ready", "not_required")),
    ],
)
def test_the_usual_outcome_of_the_charge_per_payment_kind(kind, total, expected) -> None:  # noqa: ANN001
    assert expected_after_charge(payment_kind=kind, total=total) == expected
