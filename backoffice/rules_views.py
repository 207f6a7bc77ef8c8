"""The order-rule editor (受注ルール) with its simulation, and the pre-order list (予約商品).

A rule is written as JSON (conditions: groups of {"field", "op", "value"}; actions: {"type", "value"}),
validated by orders.rules on every simulation and save. The simulation runs the draft — the shop's
active rules with this one put in its place — on the last N days' orders and on the orders the next
N nights would create, and writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.rules import engine
from orders.rules.models import OrderRule
from orders.rules.selectors import preorder_quantities
from orders.rules.services import RuleInvalid, order_rule_parse, order_rule_save, order_rules_warnings
from orders.rules.simulation import rules_simulate_forecast, rules_simulate_past
from orders.rules.validation import (
    ACTION_LABELS,
    FIELD_LABELS,
    messages_text,
    rule_choices,
    rule_from_model,
    status_label,
)
from subscriptions.selectors import today_in_shop

SOURCES = [
    ("past", gettext_lazy("過去N日間の受注")),
    ("forecast", gettext_lazy("今後N日間に作成される受注（予測）")),
]


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("ルール名"), max_length=100)
    position = forms.IntegerField(label=gettext_lazy("順番"), min_value=0, initial=10)
    is_active = forms.BooleanField(label=gettext_lazy("有効"), required=False, initial=True)
    stop_after_match = forms.BooleanField(
        label=gettext_lazy("一致したら以降のルールを実行しない"), required=False
    )
    conditions = forms.CharField(
        label=gettext_lazy("条件（JSON）"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 90, "spellcheck": "false"}),
        initial="[]",
        help_text=gettext_lazy("グループのリスト。グループ内はAND、グループ間はOR。[] はすべての受注。"),
    )
    actions = forms.CharField(
        label=gettext_lazy("アクション（JSON）"),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 90, "spellcheck": "false"}),
        initial="[]",
    )
    note = forms.CharField(
        label=gettext_lazy("メモ"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    days = forms.IntegerField(
        label=gettext_lazy("シミュレーション日数（N）"), min_value=1, max_value=31, initial=7
    )
    sources = forms.MultipleChoiceField(
        label=gettext_lazy("シミュレーション対象"),
        choices=SOURCES,
        initial=["past", "forecast"],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def _json(self, name: str) -> Any:
        try:
            return json.loads(self.cleaned_data[name])
        except ValueError as exc:
            raise forms.ValidationError(_("JSONとして読めません: %(error)s") % {"error": exc}) from None

    def clean_conditions(self) -> Any:
        return self._json("conditions")

    def clean_actions(self) -> Any:
        return self._json("actions")

    def clean(self) -> dict:
        data = super().clean()
        if {"name", "conditions", "actions"} <= data.keys():
            try:
                data["rule"] = order_rule_parse(
                    name=data["name"],
                    conditions=data["conditions"],
                    actions=data["actions"],
                    stop_after_match=data.get("stop_after_match", False),
                )
            except RuleInvalid as exc:
                for message in exc.messages:
                    self.add_error(None, message)
        return data


def _context(request: HttpRequest, title: str, **extra: object) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@staff_member_required
def rules(request: HttpRequest) -> HttpResponse:
    """The rules in the order they run, with what is wrong with any of them."""
    _require(request, "orders.view_orderrule")
    items = list(OrderRule.objects.order_by("position", "id"))
    warnings = order_rules_warnings(rules=items)
    rows = [(rule, warnings.get(rule.pk, [])) for rule in items]
    return TemplateResponse(
        request, "backoffice/rules/list.html", _context(request, _("受注ルール"), rows=rows)
    )


def _draft_set(rule: engine.Rule, position: int, editing: OrderRule | None) -> list[engine.Rule]:
    """The active rules with the draft in its place (by position; the edited rule replaced)."""
    choices = rule_choices()
    placed: list[tuple[tuple[int, int], engine.Rule]] = []
    for saved in OrderRule.objects.filter(is_active=True).order_by("position", "id"):
        if editing is not None and saved.pk == editing.pk:
            continue
        try:
            placed.append(((saved.position, saved.pk), rule_from_model(saved, choices=choices)))
        except engine.RuleError:
            continue
    draft_key = (position, editing.pk if editing else 10**12)
    placed.append((draft_key, replace(rule, id=editing.pk if editing else None)))
    return [r for _key, r in sorted(placed, key=lambda item: item[0])]


def _tidy(conditions: Any) -> Any:
    """field, op, value in that order (jsonb stores keys sorted by length)."""
    if not isinstance(conditions, list):
        return conditions
    order = {"field": 0, "op": 1, "value": 2}
    return [
        [dict(sorted(c.items(), key=lambda kv: order.get(kv[0], 9))) if isinstance(c, dict) else c for c in g]
        if isinstance(g, list)
        else g
        for g in conditions
    ]


def _initial(rule: OrderRule | None) -> dict:
    if rule is None:
        last = OrderRule.objects.order_by("-position").values_list("position", flat=True).first()
        return {"position": (last or 0) + 10}
    return {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "stop_after_match": rule.stop_after_match,
        "conditions": json.dumps(_tidy(rule.conditions), ensure_ascii=False, indent=2),
        "actions": json.dumps(rule.actions, ensure_ascii=False, indent=2),
        "note": rule.note,
    }


@staff_member_required
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    """Write a rule; シミュレーション shows what the draft would do, 保存 stores it."""
    _require(request, "orders.view_orderrule")
    editing = None
    if rule_id is not None:
        editing = OrderRule.objects.filter(pk=rule_id).first()
        if editing is None:
            raise Http404
    form = RuleForm(request.POST or None, initial=_initial(editing))
    reports = []
    if request.method == "POST":
        _require(request, "orders.change_orderrule" if editing else "orders.add_orderrule")
        if form.is_valid():
            data = form.cleaned_data
            if "save" in request.POST:
                saved = order_rule_save(
                    rule_id=editing.pk if editing else None,
                    name=data["name"],
                    conditions=data["conditions"],
                    actions=data["actions"],
                    stop_after_match=data["stop_after_match"],
                    is_active=data["is_active"],
                    position=data["position"],
                    note=data["note"],
                )
                messages.success(request, _("受注ルール「%(name)s」を保存しました。") % {"name": saved.name})
                return redirect(reverse("backoffice:rules"))
            draft = _draft_set(data["rule"], data["position"], editing)
            today = today_in_shop()
            sources = data["sources"] or ["past"]
            if "past" in sources:
                reports.append(rules_simulate_past(rules=draft, days=data["days"], today=today))
            if "forecast" in sources:
                forecast = rules_simulate_forecast(rules=draft, days=data["days"], today=today)
                if forecast is not None:
                    reports.append(forecast)
    title = _("受注ルールの編集") if editing else _("受注ルールの追加")
    return TemplateResponse(
        request,
        "backoffice/rules/edit.html",
        _context(
            request,
            title,
            form=form,
            editing=editing,
            reports=[_presented(r) for r in reports],
            reference=_reference(),
        ),
    )


def _presented(report: Any) -> dict:
    """The report with before/after values in the staff's words."""

    def words(values: dict) -> list[tuple[str, str]]:
        shown = []
        for key, value in values.items():
            if key == "rule_id":
                continue
            if key == "status":
                value = status_label(value)
            elif isinstance(value, list):
                value = "、".join(value) or "—"
            shown.append((str(FIELD_LABELS.get(key, key)), value or "—"))
        return shown

    rules = []
    for rule in report.rules:
        examples = [
            {
                "order_id": ex.order_id,
                "number": ex.number,
                "before": words(ex.before),
                "after": words(ex.after),
                "refused": messages_text(ex.refused),
                "mails": ex.mails,
            }
            for ex in rule.examples
        ]
        rules.append(
            {
                "name": _("予約商品（発売日まで保留）") if rule.built_in else rule.name,
                "built_in": rule.built_in,
                "matched": rule.matched,
                "changed": rule.changed,
                "examples": examples,
            }
        )
    return {
        "source": report.source,
        "source_label": dict(SOURCES)[report.source],
        "start": report.start,
        "end": report.end,
        "orders": report.orders,
        "changed": report.changed,
        "untouched": report.untouched,
        "untouched_examples": [f"{i:08d}" for i in report.untouched_examples],
        "untouched_ids": report.untouched_examples,
        "rules": rules,
    }


def _reference() -> dict:
    return {
        "fields": [
            (name, FIELD_LABELS[name], kind, ", ".join(engine.OPERATORS[kind]))
            for name, kind in engine.FIELDS.items()
        ],
        "actions": [(name, ACTION_LABELS[name]) for name in engine.ACTIONS],
        "statuses": ", ".join(engine.RULE_STATUSES),
    }


@staff_member_required
def preorders(request: HttpRequest) -> HttpResponse:
    """予約商品: quantities on order per SKU, across every order not yet shipped, with when they ship."""
    _require(request, "orders.view_order")
    return TemplateResponse(
        request,
        "backoffice/rules/preorders.html",
        _context(request, _("予約商品の受注数"), rows=preorder_quantities(today=today_in_shop())),
    )
