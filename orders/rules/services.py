"""Writing the shop's order rules: every save validated against the engine's tables."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFound

from . import engine
from .models import OrderRule
from .validation import messages_text, rule_choices, rule_from_model


class RuleInvalid(DomainError):
    """A rule's conditions or actions are not valid; `messages` says each problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("rule_invalid", " ".join(messages))
        self.messages = messages


def order_rule_parse(
    *, name: str, conditions: Any, actions: Any, stop_after_match: bool, rule_id: int | None = None
) -> engine.Rule:
    """The engine's Rule for this data; RuleInvalid listing every unknown field, operator or value."""
    try:
        return engine.parse_rule(
            id=rule_id,
            name=name,
            conditions=conditions,
            actions=actions,
            stop=stop_after_match,
            choices=rule_choices(),
        )
    except engine.RuleError as exc:
        raise RuleInvalid(messages_text(exc.messages)) from None


def order_rule_save(
    *,
    rule_id: int | None = None,
    name: str,
    conditions: Any,
    actions: Any,
    stop_after_match: bool = False,
    is_active: bool = True,
    position: int | None = None,
    note: str = "",
) -> OrderRule:
    """Create or update a rule after validating it (RuleInvalid otherwise)."""
    order_rule_parse(name=name, conditions=conditions, actions=actions, stop_after_match=stop_after_match)
    with transaction.atomic():
        if rule_id is None:
            rule = OrderRule()
            if position is None:
                last = OrderRule.objects.order_by("-position").values_list("position", flat=True).first()
                position = (last or 0) + 10
        else:
            rule = OrderRule.objects.select_for_update().filter(pk=rule_id).first()
            if rule is None:
                raise NotFound("rule_not_found", _("受注ルールが見つかりません。"))
        rule.name = name
        rule.conditions = conditions
        rule.actions = actions
        rule.stop_after_match = stop_after_match
        rule.is_active = is_active
        rule.note = note
        if position is not None:
            rule.position = position
        rule.save()
        return rule


def order_rules_warnings(*, rules: list[OrderRule] | None = None) -> dict[int, list[str]]:
    """Per rule id: it can never match, is shadowed by an earlier stop rule, or no longer validates."""
    rules = (
        rules
        if rules is not None
        else list(OrderRule.objects.filter(is_active=True).order_by("position", "id"))
    )
    choices = rule_choices()
    parsed: list[engine.Rule] = []
    warnings: dict[int, list[str]] = {}
    for rule in rules:
        try:
            parsed.append(rule_from_model(rule, choices=choices))
        except engine.RuleError as exc:
            warnings[rule.pk] = messages_text(exc.messages)
    for index, found in engine.rules_check(parsed).items():
        warnings.setdefault(parsed[index].id, []).extend(messages_text(found))
    return warnings
