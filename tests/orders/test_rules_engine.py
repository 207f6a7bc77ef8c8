"""The order-rule engine (pure): every condition, every action, AND/OR groups, stop-after-match, checks."""

from __future__ import annotations

from datetime import date

import pytest

from orders.rules import engine as e

TRANSITIONS = {
    "new": {"on_hold", "awaiting_payment", "ready", "cancelled"},
    "on_hold": {"new", "cancelled"},
    "awaiting_payment": {"ready", "on_hold", "cancelled"},
    "ready": {"shipped", "on_hold", "cancelled"},
}
CHOICES = {
    "payment_kind": ("card", "cod", "bank_transfer", "konbini"),
    "prefecture": ("東京都", "沖縄県", "北海道"),
    "delivery_method": ("parcel", "mail_bin"),
    "mail_event": ("ready", "on_hold"),
}

BASE = {
    "payment_kind": "card",
    "payment_status": "paid",
    "total": 3980,
    "items_subtotal": 3980,
    "item_count": 2,
    "skus": frozenset({"A-1", "B-2"}),
    "has_preorder": False,
    "fits_mail_bin": True,
    "course": "basic",
    "sequence": 1,
    "first_order": True,
    "customer_repeater": False,
    "customer_blacklisted": False,
    "customer_similar_blacklisted": False,
    "customer_group": "",
    "is_gift": False,
    "has_comment": False,
    "prefecture": "東京都",
    "remote_island": False,
    "delivery_date": date(2026, 12, 10),
    "delivery_weekday": "thu",
    "delivery_days_ahead": 5,
    "delivery_time_slot": "08-12",
}


def facts(state: e.OrderState | None = None, *, can_ship: bool = True, fits=("parcel", "mail_bin"), **values):
    return e.OrderFacts(
        order_id=1,
        state=state
        or e.OrderState(status="new", hold_reasons=("stock_short",), tags=("vip",), delivery_method="parcel"),
        values={**BASE, **values},
        can_ship=can_ship,
        fitting_methods=frozenset(fits),
    )


def rule(groups, actions=({"type": "add_tags", "value": ["hit"]},), *, stop=False, name="r"):
    return e.parse_rule(id=1, name=name, conditions=groups, actions=list(actions), stop=stop, choices=CHOICES)


def cond(field, op, value=None):
    return {"field": field, "op": op, "value": value}


# Every field and operator: (condition, order values, matches?)
CONDITION_CASES = [
    (cond("payment_kind", "eq", "card"), {}, True),
    (cond("payment_kind", "eq", "cod"), {}, False),
    (cond("payment_kind", "ne", "cod"), {}, True),
    (cond("payment_kind", "in", ["cod", "card"]), {}, True),
    (cond("payment_kind", "not_in", ["card"]), {}, False),
    (cond("payment_status", "eq", "paid"), {}, True),
    (cond("status", "eq", "new"), {}, True),
    (cond("total", "gte", 3980), {}, True),
    (cond("total", "gt", 3980), {}, False),
    (cond("total", "lt", 10000), {}, True),
    (cond("total", "lte", 3979), {}, False),
    (cond("total", "between", [1000, 3980]), {}, True),
    (cond("total", "ne", 3980), {}, False),
    (cond("items_subtotal", "eq", 3980), {}, True),
    (cond("item_count", "gte", 3), {}, False),
    (cond("skus", "has_any", ["A-1", "Z"]), {}, True),
    (cond("skus", "has_all", ["A-1", "Z"]), {}, False),
    (cond("skus", "has_none", ["Z"]), {}, True),
    (cond("skus", "empty"), {}, False),
    (cond("skus", "not_empty"), {}, True),
    (cond("has_preorder", "is", True), {"has_preorder": True}, True),
    (cond("fits_mail_bin", "is", False), {}, False),
    (cond("course", "eq", "basic"), {}, True),
    (cond("course", "empty"), {"course": ""}, True),
    (cond("sequence", "gte", 2), {}, False),
    (cond("sequence", "eq", 1), {"sequence": None}, False),
    (cond("first_order", "is", True), {}, True),
    (cond("customer_repeater", "is", True), {"customer_repeater": True}, True),
    (cond("customer_blacklisted", "is", True), {}, False),
    (cond("customer_similar_blacklisted", "is", True), {"customer_similar_blacklisted": True}, True),
    (cond("customer_group", "eq", "gold"), {"customer_group": "gold"}, True),
    (cond("customer_group", "ne", "gold"), {"customer_group": ""}, True),
    (cond("is_gift", "is", True), {"is_gift": True}, True),
    (cond("has_comment", "is", False), {}, True),
    (cond("prefecture", "in", ["沖縄県", "北海道"]), {}, False),
    (cond("remote_island", "is", True), {"remote_island": True}, True),
    (cond("delivery_date", "eq", "2026-12-10"), {}, True),
    (cond("delivery_date", "before", "2026-12-10"), {}, False),
    (cond("delivery_date", "after", "2026-12-09"), {}, True),
    (cond("delivery_date", "empty"), {"delivery_date": None}, True),
    (cond("delivery_date", "not_empty"), {}, True),
    (cond("delivery_weekday", "in", ["sat", "sun"]), {}, False),
    (cond("delivery_days_ahead", "lt", 3), {"delivery_days_ahead": 2}, True),
    (cond("delivery_days_ahead", "lt", 3), {"delivery_days_ahead": None}, False),
    (cond("delivery_time_slot", "eq", "08-12"), {}, True),
    (cond("delivery_time_slot", "not_empty"), {"delivery_time_slot": ""}, False),
    (cond("delivery_method", "eq", "parcel"), {}, True),
    (cond("hold_reasons", "has_any", ["stock_short"]), {}, True),
    (cond("hold_reasons", "empty"), {}, False),
    (cond("tags", "has_all", ["vip"]), {}, True),
    (cond("tags", "has_none", ["vip"]), {}, False),
]


@pytest.mark.parametrize(("condition", "values", "expected"), CONDITION_CASES)
def test_each_condition(condition, values, expected):
    r = rule([[condition]])
    assert e.rule_matches(r, facts(**values), facts().state) is expected


def test_every_field_and_operator_has_a_case():
    covered = {(c["field"], c["op"]) for c, _v, _x in CONDITION_CASES}
    assert {f for f, _op in covered} == set(e.FIELDS)


# AND within a group, OR between groups, [] for every order.
@pytest.mark.parametrize(
    ("groups", "values", "expected"),
    [
        ([[cond("payment_kind", "eq", "card"), cond("has_comment", "is", False)]], {}, True),
        (
            [[cond("payment_kind", "eq", "card"), cond("has_comment", "is", False)]],
            {"has_comment": True},
            False,
        ),
        (
            [[cond("has_comment", "is", True)], [cond("remote_island", "is", True)]],
            {"remote_island": True},
            True,
        ),
        ([[cond("has_comment", "is", True)], [cond("remote_island", "is", True)]], {}, False),
        ([], {}, True),
    ],
)
def test_and_or_groups(groups, values, expected):
    assert e.rule_matches(rule(groups), facts(**values), facts().state) is expected


@pytest.mark.parametrize(
    ("action", "state", "can_ship", "after", "refused"),
    [
        ({"type": "set_status", "value": "ready"}, None, True, {"status": "ready"}, []),
        ({"type": "set_status", "value": "ready"}, None, False, {}, ["not_paid"]),
        (
            {"type": "set_status", "value": "ready"},
            e.OrderState(status="on_hold"),
            True,
            {},
            ["bad_transition"],
        ),
        (
            {"type": "hold", "value": "要確認（コメント）"},
            None,
            True,
            {"status": "on_hold", "hold_reasons": ["stock_short", "要確認（コメント）"]},
            [],
        ),
        ({"type": "hold", "value": "x"}, e.OrderState(status="shipped"), True, {}, ["bad_transition"]),
        ({"type": "add_tags", "value": ["確認不要", "vip"]}, None, True, {"tags": ["vip", "確認不要"]}, []),
        ({"type": "add_tags", "value": "ギフト"}, None, True, {"tags": ["vip", "ギフト"]}, []),
        (
            {"type": "set_delivery_method", "value": "mail_bin"},
            None,
            True,
            {"delivery_method": "mail_bin"},
            [],
        ),
        ({"type": "send_mail", "value": "ready"}, None, True, {}, []),
    ],
)
def test_each_action(action, state, can_ship, after, refused):
    f = facts(state, can_ship=can_ship)
    outcome = e.evaluate([rule([], [action])], f, transitions=TRANSITIONS)
    applied = outcome.applied[0]
    assert applied.after == after
    assert [code for code, _p in applied.refused] == refused
    assert applied.mails == (["ready"] if action["type"] == "send_mail" else [])


def test_delivery_method_the_items_do_not_fit_is_refused():
    f = facts(fits=("parcel",))
    outcome = e.evaluate(
        [rule([], [{"type": "set_delivery_method", "value": "mail_bin"}])], f, transitions=TRANSITIONS
    )
    assert outcome.after.delivery_method == "parcel"
    assert outcome.applied[0].refused == [("method_does_not_fit", {"method": "mail_bin"})]


def test_stop_after_match_ends_the_walk_and_later_rules_see_earlier_changes():
    first = rule([[cond("has_comment", "is", True)]], [{"type": "hold", "value": "コメント"}], name="a")
    sees_hold = rule([[cond("status", "eq", "on_hold")]], [{"type": "add_tags", "value": ["held"]}], name="b")
    assert [
        a.rule_name
        for a in e.evaluate([first, sees_hold], facts(has_comment=True), transitions=TRANSITIONS).applied
    ] == ["a", "b"]
    stopper = rule(
        [[cond("has_comment", "is", True)]], [{"type": "hold", "value": "コメント"}], stop=True, name="a"
    )
    outcome = e.evaluate([stopper, sees_hold], facts(has_comment=True), transitions=TRANSITIONS)
    assert [a.rule_name for a in outcome.applied] == ["a"]
    assert outcome.after.tags == ("vip",)
    # A stop rule that does not match does not stop anything.
    outcome = e.evaluate([stopper, sees_hold], facts(), transitions=TRANSITIONS)
    assert outcome.applied == []


def test_worked_example_from_the_issue():
    straight = rule(
        [
            [
                cond("payment_kind", "eq", "card"),
                cond("has_comment", "is", False),
                cond("is_gift", "is", False),
            ]
        ],
        [{"type": "set_status", "value": "ready"}, {"type": "add_tags", "value": ["確認不要"]}],
        name="カード・コメントなし・ギフトなし",
    )
    check = rule(
        [[cond("has_comment", "is", True)], [cond("remote_island", "is", True)]],
        [{"type": "hold", "value": "要確認"}],
        name="要確認",
    )
    plain = e.OrderState(status="new")
    assert e.evaluate([straight, check], facts(plain), transitions=TRANSITIONS).after.status == "ready"
    assert (
        e.evaluate([straight, check], facts(plain, has_comment=True), transitions=TRANSITIONS).after.status
        == "on_hold"
    )
    island = e.evaluate(
        [straight, check], facts(plain, remote_island=True, payment_kind="cod"), transitions=TRANSITIONS
    )
    assert island.after.hold_reasons == ("要確認",)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (cond("colour", "eq", "red"), "unknown_field"),
        (cond("total", "contains", 1), "unknown_operator"),
        (cond("total", "gte", "1000"), "value_not_int"),
        (cond("total", "gte", True), "value_not_int"),
        (cond("total", "between", [5, 1]), "range_reversed"),
        (cond("total", "between", [1]), "value_not_range"),
        (cond("is_gift", "is", "yes"), "value_not_bool"),
        (cond("delivery_date", "before", "12/10"), "value_not_date"),
        (cond("payment_kind", "eq", "bitcoin"), "value_unknown"),
        (cond("payment_kind", "in", []), "value_not_list"),
        (cond("skus", "has_any", "A-1"), "value_not_list"),
        ({"field": "total", "op": "eq", "value": 1, "extra": 1}, "condition_unknown_key"),
        ("total >= 1", "condition_not_object"),
    ],
)
def test_bad_conditions_are_refused_with_a_message(raw, code):
    with pytest.raises(e.RuleError) as caught:
        rule([[raw]])
    assert caught.value.messages[0][0] == code


@pytest.mark.parametrize(
    ("actions", "code"),
    [
        ([], "actions_empty"),
        ([{"type": "explode"}], "unknown_action"),
        ([{"type": "set_status", "value": "shipped"}], "action_bad_value"),
        ([{"type": "set_delivery_method", "value": "drone"}], "action_bad_value"),
        ([{"type": "send_mail", "value": "nope"}], "action_bad_value"),
        ([{"type": "add_tags", "value": [""]}], "action_bad_value"),
        ([{"type": "hold", "value": ""}], "action_bad_value"),
    ],
)
def test_bad_actions_are_refused(actions, code):
    with pytest.raises(e.RuleError) as caught:
        e.parse_rule(id=1, name="r", conditions=[], actions=actions, stop=False, choices=CHOICES)
    assert caught.value.messages[0][0] == code


def test_empty_group_is_refused():
    with pytest.raises(e.RuleError) as caught:
        rule([[]])
    assert caught.value.messages[0][0] == "group_empty"


@pytest.mark.parametrize(
    ("group", "never"),
    [
        ([cond("is_gift", "is", True), cond("is_gift", "is", False)], True),
        ([cond("total", "gte", 5000), cond("total", "lt", 5000)], True),
        ([cond("total", "gte", 5000), cond("total", "lte", 5000)], False),
        ([cond("total", "eq", 5000), cond("total", "ne", 5000)], True),
        ([cond("total", "between", [1, 10]), cond("total", "gt", 10)], True),
        ([cond("payment_kind", "eq", "card"), cond("payment_kind", "eq", "cod")], True),
        (
            [cond("payment_kind", "in", ["card", "cod"]), cond("payment_kind", "not_in", ["card", "cod"])],
            True,
        ),
        ([cond("payment_kind", "in", ["card", "cod"]), cond("payment_kind", "ne", "card")], False),
        ([cond("skus", "has_all", ["A"]), cond("skus", "has_none", ["A"])], True),
        ([cond("skus", "has_any", ["A"]), cond("skus", "empty")], True),
        ([cond("delivery_date", "after", "2026-12-10"), cond("delivery_date", "before", "2026-12-11")], True),
        ([cond("delivery_date", "empty"), cond("delivery_date", "not_empty")], True),
    ],
)
def test_never_matches(group, never):
    assert e.rule_never_matches(rule([group])) is never


def test_a_rule_with_one_possible_group_can_match():
    impossible = [cond("is_gift", "is", True), cond("is_gift", "is", False)]
    assert e.rule_never_matches(rule([impossible, [cond("is_gift", "is", True)]])) is False


def test_shadowed_by_an_earlier_stop_rule():
    catch_all = rule([], stop=True, name="all")
    card = rule([[cond("payment_kind", "eq", "card")]], stop=True, name="card")
    card_no_comment = rule(
        [[cond("payment_kind", "eq", "card"), cond("has_comment", "is", False)]], name="cnc"
    )
    cod = rule([[cond("payment_kind", "eq", "cod")]], name="cod")
    assert e.rules_check([card, card_no_comment, cod]) == {
        1: [("shadowed", {"rule": "cnc", "earlier": "card"})]
    }
    assert set(e.rules_check([catch_all, cod])) == {1}
    not_stop = rule([[cond("payment_kind", "eq", "card")]], name="card")
    assert e.rules_check([not_stop, card_no_comment]) == {}
    never = rule([[cond("total", "lt", 0)]], name="never")
    assert e.rules_check([never]) == {0: [("never_matches", {"rule": "never"})]}
