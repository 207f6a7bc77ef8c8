"""Order rules (受注ルール) as data: the fields a condition may test, validation, and the evaluator.

Pure: no Django import. The nightly stage, the admin action, the on-demand run and the simulation page
all call `evaluate`, so what the simulation shows is what a run does.

A rule is `groups` of conditions — AND inside a group, OR between groups (no groups: every order) —
and a list of actions. Rules run in their order; each sees the order as the earlier rules left it
(status, hold reasons, tags, delivery method), and a matched rule with `stop` ends the walk.

Conditions are {"field", "op", "value"}; actions {"type", "value"}. Messages are returned as
(code, params) pairs; the Django layer words them (orders.rules.validation).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

BOOL = "bool"
CHOICE = "choice"
NUMBER = "number"
SET = "set"
DATE = "date"

# Every field a condition may test, and its kind. The loaders (orders.rules.facts) fill them.
FIELDS: dict[str, str] = {
    "payment_kind": CHOICE,
    "payment_status": CHOICE,
    "status": CHOICE,
    "total": NUMBER,
    "items_subtotal": NUMBER,
    "item_count": NUMBER,
    "skus": SET,
    "has_preorder": BOOL,
    "fits_mail_bin": BOOL,
    "course": CHOICE,
    "sequence": NUMBER,
    "first_order": BOOL,
    "customer_repeater": BOOL,
    "customer_blacklisted": BOOL,
    "customer_similar_blacklisted": BOOL,
    "customer_group": CHOICE,
    "is_gift": BOOL,
    "has_comment": BOOL,
    "prefecture": CHOICE,
    "remote_island": BOOL,
    "delivery_date": DATE,
    "delivery_weekday": CHOICE,
    "delivery_days_ahead": NUMBER,
    "delivery_time_slot": CHOICE,
    "delivery_method": CHOICE,
    "hold_reasons": SET,
    "tags": SET,
}

# Fields an action changes: a condition on them reads the order as the earlier rules left it.
STATE_FIELDS = ("status", "hold_reasons", "tags", "delivery_method")

OPERATORS: dict[str, tuple[str, ...]] = {
    BOOL: ("is",),
    CHOICE: ("eq", "ne", "in", "not_in", "empty", "not_empty"),
    NUMBER: ("eq", "ne", "lt", "lte", "gt", "gte", "between"),
    SET: ("has_any", "has_all", "has_none", "empty", "not_empty"),
    DATE: ("eq", "before", "after", "empty", "not_empty"),
}
_NO_VALUE = {"empty", "not_empty"}

ACTIONS = ("set_status", "hold", "add_tags", "set_delivery_method", "send_mail")
# Statuses a rule may set: sorting a new order; shipping, cancelling and returning stay with staff.
RULE_STATUSES = ("new", "ready", "awaiting_payment", "on_hold")
ON_HOLD = "on_hold"
READY = "ready"

Message = tuple[str, dict[str, Any]]


class RuleError(ValueError):
    """A rule's data is not valid; `messages` are (code, params) pairs."""

    def __init__(self, messages: list[Message]) -> None:
        super().__init__(messages)
        self.messages = messages


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Action:
    type: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: int | None
    name: str
    groups: tuple[tuple[Condition, ...], ...] = ()
    actions: tuple[Action, ...] = ()
    stop: bool = False


# Parsing and validation -------------------------------------------------------------------------


def _value_error(cond: Mapping, code: str, **params: Any) -> Message:
    return code, {"field": cond.get("field"), "op": cond.get("op"), **params}


def _check_value(kind: str, op: str, value: Any, allowed: Collection[str] | None) -> tuple[Any, str | None]:
    """The value normalised for the operator, or an error code."""
    if op in _NO_VALUE:
        return None, None
    if kind == BOOL:
        return (value, None) if isinstance(value, bool) else (None, "value_not_bool")
    if kind == NUMBER:
        if op == "between":
            ok = (
                isinstance(value, list | tuple)
                and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            )
            if not ok:
                return None, "value_not_range"
            return (tuple(value), None) if value[0] <= value[1] else (None, "range_reversed")
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        return None, "value_not_int"
    if kind == DATE:
        try:
            return date.fromisoformat(value), None
        except (TypeError, ValueError):
            return None, "value_not_date"
    many = op in ("in", "not_in") or kind == SET
    values = value if many else [value]
    if not isinstance(values, list | tuple) or not values or not all(isinstance(v, str) for v in values):
        return None, ("value_not_list" if many else "value_not_text")
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            return None, "value_unknown"
    return (frozenset(values) if many else values[0]), None


def parse_condition(
    raw: Any, *, choices: Mapping[str, Collection[str]]
) -> tuple[Condition | None, list[Message]]:
    if not isinstance(raw, Mapping):
        return None, [("condition_not_object", {})]
    name, op = raw.get("field"), raw.get("op")
    unknown_keys = set(raw) - {"field", "op", "value"}
    if unknown_keys:
        return None, [_value_error(raw, "condition_unknown_key", keys=", ".join(sorted(unknown_keys)))]
    if name not in FIELDS:
        return None, [_value_error(raw, "unknown_field")]
    kind = FIELDS[name]
    if op not in OPERATORS[kind]:
        return None, [_value_error(raw, "unknown_operator", allowed=", ".join(OPERATORS[kind]))]
    value, error = _check_value(kind, op, raw.get("value"), choices.get(name))
    if error:
        return None, [_value_error(raw, error, value=raw.get("value"))]
    return Condition(name, op, value), []


def parse_action(raw: Any, *, choices: Mapping[str, Collection[str]]) -> tuple[Action | None, list[Message]]:
    if not isinstance(raw, Mapping) or set(raw) - {"type", "value"}:
        return None, [("action_not_object", {})]
    kind, value = raw.get("type"), raw.get("value")
    if kind not in ACTIONS:
        return None, [("unknown_action", {"type": kind, "allowed": ", ".join(ACTIONS)})]
    if kind == "add_tags":
        tags = [value] if isinstance(value, str) else value
        if (
            not isinstance(tags, list | tuple)
            or not tags
            or not all(isinstance(t, str) and t.strip() for t in tags)
        ):
            return None, [("action_bad_value", {"type": kind, "value": value})]
        return Action(kind, tuple(t.strip() for t in tags)), []
    if not isinstance(value, str) or not value.strip():
        return None, [("action_bad_value", {"type": kind, "value": value})]
    value = value.strip()
    allowed = {
        "set_status": RULE_STATUSES,
        "set_delivery_method": choices.get("delivery_method"),
        "send_mail": choices.get("mail_event"),
    }.get(kind)
    if allowed is not None and value not in allowed:
        return None, [("action_bad_value", {"type": kind, "value": value})]
    return Action(kind, value), []


def parse_rule(
    *,
    id: int | None,  # noqa: A002 - the rule's id
    name: str,
    conditions: Any,
    actions: Any,
    stop: bool,
    choices: Mapping[str, Collection[str]],
) -> Rule:
    """A Rule from its stored data; RuleError listing every problem (unknown field, operator, value)."""
    errors: list[Message] = []
    groups: list[tuple[Condition, ...]] = []
    if not isinstance(conditions, list):
        errors.append(("conditions_not_list", {}))
        conditions = []
    for raw_group in conditions:
        if not isinstance(raw_group, list) or not raw_group:
            errors.append(("group_empty", {}))
            continue
        group = []
        for raw in raw_group:
            cond, problems = parse_condition(raw, choices=choices)
            errors.extend(problems)
            if cond is not None:
                group.append(cond)
        groups.append(tuple(group))
    parsed_actions: list[Action] = []
    if not isinstance(actions, list) or not actions:
        errors.append(("actions_empty", {}))
        actions = actions if isinstance(actions, list) else []
    for raw in actions:
        action, problems = parse_action(raw, choices=choices)
        errors.extend(problems)
        if action is not None:
            parsed_actions.append(action)
    if errors:
        raise RuleError(errors)
    return Rule(id=id, name=name, groups=tuple(groups), actions=tuple(parsed_actions), stop=stop)


# Static checks: never matches, shadowed ----------------------------------------------------------


def _group_impossible(group: Sequence[Condition]) -> bool:
    """True when no order can satisfy every condition of the group (a sound, not complete, check)."""
    by_field: dict[str, list[Condition]] = {}
    for cond in group:
        by_field.setdefault(cond.field, []).append(cond)
    return any(_field_impossible(FIELDS[name], conds) for name, conds in by_field.items())


def _field_impossible(kind: str, conds: list[Condition]) -> bool:
    ops = {c.op for c in conds}
    if {"empty", "not_empty"} <= ops:
        return True
    if kind == BOOL:
        return len({c.value for c in conds}) > 1
    if kind == NUMBER:
        # Every number field (amounts, counts, sequence, days ahead) is zero or more.
        low, high = 0, float("inf")
        excluded = set()
        for c in conds:
            if c.op == "eq":
                low, high = max(low, c.value), min(high, c.value)
            elif c.op == "between":
                low, high = max(low, c.value[0]), min(high, c.value[1])
            elif c.op == "gt":
                low = max(low, c.value + 1)
            elif c.op == "gte":
                low = max(low, c.value)
            elif c.op == "lt":
                high = min(high, c.value - 1)
            elif c.op == "lte":
                high = min(high, c.value)
            elif c.op == "ne":
                excluded.add(c.value)
        return low > high or (low == high and low in excluded)
    if kind == CHOICE:
        possible: set | None = None
        banned: set = set()
        for c in conds:
            if c.op == "eq":
                possible = {c.value} if possible is None else possible & {c.value}
            elif c.op == "in":
                possible = set(c.value) if possible is None else possible & set(c.value)
            elif c.op == "ne":
                banned.add(c.value)
            elif c.op == "not_in":
                banned |= set(c.value)
        if possible is not None and not (possible - banned):
            return True
        return possible is not None and "empty" in ops
    if kind == SET:
        required = set().union(*(c.value for c in conds if c.op == "has_all"))
        anys = [set(c.value) for c in conds if c.op == "has_any"]
        banned = set().union(*(c.value for c in conds if c.op == "has_none"))
        if required & banned or any(not (a - banned) for a in anys):
            return True
        return "empty" in ops and bool(required or anys)
    if kind == DATE:
        low, high = date.min, date.max
        for c in conds:
            if c.op == "eq":
                low, high = max(low, c.value), min(high, c.value)
            elif c.op == "after":
                low = (
                    max(low, c.value.fromordinal(c.value.toordinal() + 1)) if c.value < date.max else date.max
                )
            elif c.op == "before":
                high = (
                    min(high, c.value.fromordinal(c.value.toordinal() - 1))
                    if c.value > date.min
                    else date.min
                )
        return low > high or ("empty" in ops and len(ops) > 1)
    return False


def rule_never_matches(rule: Rule) -> bool:
    return bool(rule.groups) and all(_group_impossible(g) for g in rule.groups)


def _implies(specific: Sequence[Condition], general: Sequence[Condition]) -> bool:
    """Every order matching `specific` matches `general`: here, general's conditions are among its own."""
    return set(general) <= set(specific)


def rule_shadowed_by(rule: Rule, earlier: Rule) -> bool:
    """True when `earlier` stops after matching and matches every order `rule` would match."""
    if not earlier.stop:
        return False
    if not earlier.groups:
        return True
    if not rule.groups:
        return False
    return all(any(_implies(g, e) for e in earlier.groups) for g in rule.groups)


def rules_check(rules: Sequence[Rule]) -> dict[int, list[Message]]:
    """Warnings per position: a rule that can never match, or that an earlier stop rule shadows."""
    warnings: dict[int, list[Message]] = {}
    for index, rule in enumerate(rules):
        found: list[Message] = []
        if rule_never_matches(rule):
            found.append(("never_matches", {"rule": rule.name}))
        for earlier in rules[:index]:
            if rule_shadowed_by(rule, earlier):
                found.append(("shadowed", {"rule": rule.name, "earlier": earlier.name}))
                break
        if found:
            warnings[index] = found
    return warnings


# Evaluation -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderState:
    """What rules change on an order."""

    status: str
    hold_reasons: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    delivery_method: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "hold_reasons": list(self.hold_reasons),
            "tags": list(self.tags),
            "delivery_method": self.delivery_method,
        }


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What an order knows, for its conditions; `state` is what the rules may change.

    `transitions`: the statuses reachable from each status (orders.models.ORDER_TRANSITIONS);
    `can_ship`: the payment is settled or collected on delivery, so 出荷待ち is allowed;
    `fitting_methods`: the delivery methods the order's items fit (catalog.packaging).
    """

    order_id: int
    state: OrderState
    values: Mapping[str, Any]
    can_ship: bool = True
    fitting_methods: frozenset[str] = frozenset()


@dataclass(slots=True)
class RuleApplied:
    rule_id: int | None
    rule_name: str
    before: dict[str, Any]
    after: dict[str, Any]
    mails: list[str] = field(default_factory=list)
    # Actions that did not take: (code, params), e.g. a status the order cannot move to.
    refused: list[Message] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after or bool(self.mails)


@dataclass(slots=True)
class Outcome:
    order_id: int
    before: OrderState
    after: OrderState
    applied: list[RuleApplied] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after or any(a.mails for a in self.applied)

    @property
    def mails(self) -> list[str]:
        return [m for a in self.applied for m in a.mails]


def value_of(facts: OrderFacts, state: OrderState, name: str) -> Any:
    if name in STATE_FIELDS:
        value = getattr(state, name)
        return frozenset(value) if FIELDS[name] == SET else value
    return facts.values.get(name)


def condition_holds(cond: Condition, value: Any) -> bool:
    op = cond.op
    if op == "empty":
        return not value
    if op == "not_empty":
        return bool(value)
    kind = FIELDS[cond.field]
    if kind == BOOL:
        return bool(value) is cond.value
    if kind == SET:
        have = frozenset(value or ())
        if op == "has_any":
            return bool(have & cond.value)
        if op == "has_all":
            return cond.value <= have
        return not (have & cond.value)  # has_none
    if value is None or value == "":
        # A missing value satisfies only the negative operators.
        return op in ("ne", "not_in")
    if op == "eq":
        return value == cond.value
    if op == "ne":
        return value != cond.value
    if op == "in":
        return value in cond.value
    if op == "not_in":
        return value not in cond.value
    if op == "between":
        return cond.value[0] <= value <= cond.value[1]
    if op == "lt":
        return value < cond.value
    if op == "lte":
        return value <= cond.value
    if op == "gt":
        return value > cond.value
    if op == "gte":
        return value >= cond.value
    if op == "before":
        return value < cond.value
    return value > cond.value  # after


def rule_matches(rule: Rule, facts: OrderFacts, state: OrderState) -> bool:
    if not rule.groups:
        return True
    return any(all(condition_holds(c, value_of(facts, state, c.field)) for c in g) for g in rule.groups)


def _move(state: OrderState, status: str, transitions: Mapping[str, Collection[str]]) -> bool:
    return status == state.status or status in transitions.get(state.status, ())


def apply_actions(
    rule: Rule, facts: OrderFacts, state: OrderState, transitions: Mapping[str, Collection[str]]
) -> tuple[OrderState, RuleApplied]:
    before = state
    mails: list[str] = []
    refused: list[Message] = []
    for action in rule.actions:
        if action.type == "set_status":
            if action.value == state.status:
                continue
            if action.value == READY and not facts.can_ship:
                refused.append(("not_paid", {"status": action.value}))
            elif not _move(state, action.value, transitions):
                refused.append(("bad_transition", {"from": state.status, "to": action.value}))
            else:
                state = replace(state, status=action.value)
        elif action.type == "hold":
            if not _move(state, ON_HOLD, transitions):
                refused.append(("bad_transition", {"from": state.status, "to": ON_HOLD}))
                continue
            reasons = (
                state.hold_reasons
                if action.value in state.hold_reasons
                else (*state.hold_reasons, action.value)
            )
            state = replace(state, status=ON_HOLD, hold_reasons=reasons)
        elif action.type == "add_tags":
            tags = state.tags + tuple(t for t in action.value if t not in state.tags)
            state = replace(state, tags=tags)
        elif action.type == "set_delivery_method":
            if action.value != state.delivery_method:
                if action.value in facts.fitting_methods:
                    state = replace(state, delivery_method=action.value)
                else:
                    refused.append(("method_does_not_fit", {"method": action.value}))
        elif action.type == "send_mail":
            mails.append(action.value)
    old, new = _diff(before, state)
    return state, RuleApplied(rule.id, rule.name, old, new, mails, refused)


def _diff(old: OrderState, new: OrderState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed fields, before and after (lists for the JSON timeline)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if old is new:
        return before, after
    for name in STATE_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            before[name], after[name] = (list(a), list(b)) if isinstance(a, tuple) else (a, b)
    return before, after


def evaluate(
    rules: Sequence[Rule], facts: OrderFacts, *, transitions: Mapping[str, Collection[str]]
) -> Outcome:
    """Walk the rules over one order: what each matched rule changed, and the order afterwards."""
    state = facts.state
    outcome = Outcome(order_id=facts.order_id, before=state, after=state)
    for rule in rules:
        if not rule_matches(rule, facts, state):
            continue
        state, applied = apply_actions(rule, facts, state, transitions)
        outcome.applied.append(applied)
        if rule.stop:
            break
    outcome.after = state
    return outcome


def fields_used(rules: Iterable[Rule]) -> set[str]:
    """The fields the rules test: loaders read only what is needed (similar-customer checks cost)."""
    return {c.field for rule in rules for group in rule.groups for c in group}
