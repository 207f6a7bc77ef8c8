"""Can the rules be walked over a new order before its payment is known? Pure: no Django import.

The nightly run creates an order, then charges it, then (today's contract) the rules see the order as
the charge left it. A walk can move before the charge, into the generation batch, only when it is
the same whatever the charge does and does nothing the charge would notice:

- no condition it decides on reads what the charge changes (`status`, `payment_status`,
  `hold_reasons`, passed as `unknown`): such a condition is neither true nor false yet;
- no rule that matches moves the status or holds the order (the charge takes only new orders, and
  出荷待ち needs the payment), nor sends a mail (a mail shows the order as it is when it is queued).

`walk_before_payment` answers with the walk's Outcome, or None when the walk has to wait for the
payment. Conditions are three-valued here: a group is false as soon as one of its conditions is
false, even if another reads an unknown field; a rule matches as soon as one group is true.

`expected_after_charge` is the charge's usual outcome per payment kind, used only to write early the
tags and delivery method a waiting walk will most likely give (the post-charge stage checks the walk
again on the order as the charge really left it, and corrects the order when it differs).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from . import engine

# What the charge stage changes on a new order: a condition on these waits for the payment.
PAYMENT_FIELDS = frozenset({"status", "payment_status", "hold_reasons"})
# Actions that act on what the charge reads or shows: a rule matching with one waits for the payment.
PAYMENT_ACTIONS = frozenset({"set_status", "hold", "send_mail"})

_UNKNOWN = None


def _condition(
    cond: engine.Condition, facts: engine.OrderFacts, state: engine.OrderState, unknown: Collection[str]
) -> bool | None:
    if cond.field in unknown:
        return _UNKNOWN
    return engine.condition_holds(cond, engine.value_of(facts, state, cond.field))


def rule_matches_known(
    rule: engine.Rule, facts: engine.OrderFacts, state: engine.OrderState, unknown: Collection[str]
) -> bool | None:
    """True or False when the known fields decide it, None when it depends on an unknown one."""
    if not rule.groups:
        return True
    undecided = False
    for group in rule.groups:
        group_value: bool | None = True
        for cond in group:
            value = _condition(cond, facts, state, unknown)
            if value is False:
                group_value = False
                break
            if value is _UNKNOWN:
                group_value = _UNKNOWN
        if group_value is True:
            return True
        if group_value is _UNKNOWN:
            undecided = True
    return _UNKNOWN if undecided else False


def walk_before_payment(
    rules: Sequence[engine.Rule],
    facts: engine.OrderFacts,
    *,
    transitions: Mapping[str, Collection[str]],
    unknown: Collection[str] = PAYMENT_FIELDS,
) -> engine.Outcome | None:
    """The walk over a new, not yet charged order, or None when it depends on the payment."""
    state = facts.state
    outcome = engine.Outcome(order_id=facts.order_id, before=state, after=state)
    for rule in rules:
        matched = rule_matches_known(rule, facts, state, unknown)
        if matched is _UNKNOWN:
            return None
        if not matched:
            continue
        if any(action.type in PAYMENT_ACTIONS for action in rule.actions):
            return None
        state, applied = engine.apply_actions(rule, facts, state, transitions)
        outcome.applied.append(applied)
        if rule.stop:
            break
    outcome.after = state
    return outcome


# Payment kinds settled without a gateway and paid later (billing.gateways.offline.PREPAID_KINDS).
PREPAID_KINDS = frozenset({"bank_transfer", "konbini"})


def expected_after_charge(*, payment_kind: str, total: int) -> tuple[str, str]:
    """(status, payment_status) the charge stage usually leaves a new order in: a free order needs no
    payment and is ready, cash on delivery is ready and collected later, bank transfer and konbini
    wait for the money, a card is charged and ready. A guess, checked after the charge."""
    if total == 0:
        return "ready", "not_required"
    if payment_kind == "cod":
        return "ready", "awaiting_offline"
    if payment_kind in PREPAID_KINDS:
        return "awaiting_payment", "awaiting_offline"
    return "ready", "paid"
