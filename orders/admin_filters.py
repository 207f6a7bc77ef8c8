"""Order list filters and search for the back office (受注一覧の絞り込み).

Search folds what staff type the way the shop's data is written: full-width digits and letters to
half-width, half-width kana to full-width, hiragana to katakana for the kana name, spaces ignored;
a number finds the order number and the phone digits.
"""

from __future__ import annotations

from datetime import date

import jaconv
from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.jsonq import json_list_has
from core.payment_kinds import PaymentKind
from customers.search import digits, fold
from customers.search import no_spaces as _no_spaces
from customers.search import phone_digits as _phone_digits
from subscriptions.models import AttentionReason

from .models import Order


class DateRangeFilter(admin.ListFilter):
    """From / to (inclusive) on one date field: ?<field>_from=YYYY-MM-DD&<field>_to=YYYY-MM-DD."""

    field_name = ""
    template = "admin/orders/date_range_filter.html"

    def __init__(
        self, request: HttpRequest, params: dict, model: type, model_admin: admin.ModelAdmin
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.keys = (f"{self.field_name}_from", f"{self.field_name}_to")
        self.values: dict[str, date | None] = {}
        for key in self.keys:
            raw = params.pop(key, [""])
            raw = raw[-1] if isinstance(raw, list) else raw
            try:
                self.values[key] = date.fromisoformat(raw) if raw else None
            except ValueError:
                self.values[key] = None
        self.request = request

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.keys)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start, end = (self.values[k] for k in self.keys)
        if start:
            queryset = queryset.filter(**{f"{self.field_name}__gte": start})
        if end:
            queryset = queryset.filter(**{f"{self.field_name}__lte": end})
        return queryset

    def choices(self, changelist):  # noqa: ANN001, ANN201
        # One "choice" carrying what the template needs: the current values and the other parameters.
        others = {k: v for k, v in self.request.GET.items() if k not in self.keys}
        yield {
            "keys": self.keys,
            "values": [self.values[k].isoformat() if self.values[k] else "" for k in self.keys],
            "others": others.items(),
            "clear": changelist.get_query_string(remove=list(self.keys)),
        }


class CreationDateRange(DateRangeFilter):
    title = _("受注日（期間）")
    field_name = "creation_date"


class DeliveryDateRange(DateRangeFilter):
    title = _("お届け日（期間）")
    field_name = "delivery_date"


class HoldReasonFilter(admin.SimpleListFilter):
    title = _("保留理由")
    parameter_name = "hold_reason"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return list(AttentionReason.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in AttentionReason.values:
            return queryset.filter(json_list_has("hold_reasons", self.value()))
        return queryset


class RepeatFilter(admin.SimpleListFilter):
    """初回 / リピート: a repeat order is one whose customer has an earlier order."""

    title = _("初回・リピート")
    parameter_name = "repeat"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("first", _("初回")), ("repeat", _("リピート"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        earlier = Exists(Order.objects.filter(customer_id=OuterRef("customer_id"), id__lt=OuterRef("id")))
        if self.value() == "first":
            return queryset.filter(~earlier)
        if self.value() == "repeat":
            return queryset.filter(earlier)
        return queryset


class PaymentKindFilter(admin.SimpleListFilter):
    title = _("支払方法")
    parameter_name = "payment_kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        kinds = (
            Order.objects.exclude(payment_kind="")
            .order_by()
            .values_list("payment_kind", flat=True)
            .distinct()
        )
        labels = dict(PaymentKind.choices)
        return [(kind, labels.get(kind, kind)) for kind in sorted(kinds)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(payment_kind=self.value()) if self.value() else queryset


def order_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    """Order number, customer or recipient name (kanji or kana, any width, spaces ignored), phone, email."""
    folded = fold(term)
    if not folded:
        return queryset
    found = Q(customer__user__email__iexact=folded) | Q(tracking_number=folded)
    number = digits(term)
    if number and number == folded.replace("-", ""):
        if len(number) <= 10:
            found |= Q(pk=int(number))
        if len(number) >= 6:
            queryset = queryset.annotate(
                _ship_phone=_phone_digits("ship_phone"), _phone=_phone_digits("customer__phone")
            )
            found |= Q(_ship_phone__contains=number) | Q(_phone__contains=number)
        return queryset.filter(found)
    if "@" in folded:
        found |= Q(customer__user__email__icontains=folded)
    katakana = jaconv.hira2kata(folded)
    queryset = queryset.annotate(
        _name=_no_spaces("customer__name"),
        _kana=_no_spaces("customer__name_kana"),
        _ship_name=_no_spaces("ship_name"),
    )
    found |= Q(_name__icontains=folded) | Q(_ship_name__icontains=folded)
    found |= Q(_kana__icontains=katakana) | Q(_kana__icontains=jaconv.kata2hira(folded))
    return queryset.filter(found)
