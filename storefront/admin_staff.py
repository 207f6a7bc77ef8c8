"""What the two staff order pages share: finding the customer, and their saved addresses and cards.

Staff search by name (kanji or kana, any width), phone, email or customer number
(customers.search), pick the customer from the results (a plain link, no JavaScript), and the
form then offers that customer's addresses and active cards by name instead of asking for ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from billing.models import PaymentKind, PaymentMethod
from billing.selectors import payment_method_list
from catalog.models import Product
from customers.models import Customer
from customers.search import customer_search
from subscriptions.models import TimeSlot

NEW = ""


@dataclass(frozen=True)
class FoundCustomer:
    customer: Customer
    cards: list[Any]


def customer_search_context(request: HttpRequest) -> dict[str, Any]:
    """The search box's term and results (each customer with addresses and active cards)."""
    term = request.GET.get("q", "").strip()[:100]
    found = customer_search(term=term) if term else []
    cards: dict[int, list[Any]] = {}
    if found:  # one query for every result's cards
        for method in PaymentMethod.objects.filter(
            customer_id__in=[c.pk for c in found], is_active=True, kind=PaymentKind.CARD
        ).order_by("id"):
            cards.setdefault(method.customer_id, []).append(method)
    return {
        "search_term": term,
        "search_results": [FoundCustomer(c, cards.get(c.pk, [])) for c in found],
    }


def chosen_customer(value: Any) -> Customer | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return Customer.objects.select_related("user").filter(pk=pk).first()


class CustomerChoicesMixin:
    """`address_id` and `payment_method_id` as choices among the chosen customer's own rows."""

    def set_customer_choices(self, customer: Customer | None) -> None:
        self.chosen = customer
        addresses = list(customer.addresses.all()) if customer else []
        cards = payment_method_list(customer_id=customer.pk, active_only=True) if customer else []
        self.fields["address_id"].choices = [(NEW, _("新しいお届け先（下の欄に入力）"))] + [
            (str(a.pk), str(a)) for a in addresses
        ]
        self.fields["payment_method_id"].choices = [(NEW, _("（カード以外、または登録なし）"))] + [
            (str(m.pk), str(m)) for m in cards if m.kind == PaymentKind.CARD
        ]


def _choice_id(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, coerce=int, empty_value=None, required=False, choices=())


def address_field() -> forms.TypedChoiceField:
    return _choice_id(_("お届け先"))


def card_field() -> forms.TypedChoiceField:
    return _choice_id(_("登録済みカード（カード払い）"))


ITEM_ROWS = 5


def product_field(index: int, choices: list[tuple[Any, str]]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("商品%(n)d") % {"n": index},
        choices=choices,
        coerce=int,
        empty_value=None,
        required=index == 1,
    )


def product_choices() -> list[tuple[Any, str]]:
    """Products on sale, by SKU, with their list price and stock (one query for every row)."""
    rows = (
        Product.objects.filter(is_active=True)
        .order_by("sku")
        .values_list("pk", "sku", "name", "price", "stock")
    )
    return [("", "---------")] + [
        (pk, f"{sku} {name} ¥{price:,}" + ("" if stock is None else f" ({_('在庫')} {stock})"))
        for pk, sku, name, price, stock in rows
    ]


def quantity_field(index: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=_("数量%(n)d") % {"n": index},
        min_value=1,
        max_value=99,
        required=False,
        initial=1 if index == 1 else None,
    )


class OneOffOrderForm(CustomerChoicesMixin, forms.Form):
    """手動受注: up to ITEM_ROWS products with quantities, for an existing or a new customer."""

    key = forms.CharField(widget=forms.HiddenInput)
    customer = forms.IntegerField(
        label=_("既存の顧客（顧客ID）"), required=False, min_value=1,
        help_text=_("上の検索で選ぶと入ります。新規のお客様は空欄のまま、下の欄に入力してください。"),
    )  # fmt: skip
    email = forms.EmailField(label=_("メールアドレス（新規顧客）"), required=False)
    name = forms.CharField(label=_("氏名（新規顧客）"), max_length=100, required=False)
    name_kana = forms.CharField(label=_("氏名カナ（新規顧客）"), max_length=100, required=False)
    phone = forms.CharField(label=_("電話番号"), max_length=20, required=False)
    delivery_date = forms.DateField(label=_("お届け日（空欄で最短）"), required=False)
    time_slot = forms.ChoiceField(label=_("お届け時間帯"), choices=TimeSlot.choices, required=False)
    address_id = address_field()
    recipient_name = forms.CharField(label=_("お届け先氏名"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("郵便番号"), max_length=10, required=False)
    city = forms.CharField(label=_("市区町村・町名（空欄で郵便番号から）"), max_length=100, required=False)
    line1 = forms.CharField(label=_("番地"), max_length=200, required=False)
    line2 = forms.CharField(label=_("建物名・部屋番号"), max_length=200, required=False)
    payment_kind = forms.ChoiceField(label=_("お支払い方法"), choices=(), initial=PaymentKind.COD)
    payment_method_id = card_field()
    coupon_code = forms.CharField(label=_("クーポンコード"), max_length=40, required=False)
    remarks = forms.CharField(
        label=_("受付メモ（受注履歴に残ります）"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, payment_kinds: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = product_choices()
        for n in range(1, ITEM_ROWS + 1):
            self.fields[f"product_{n}"] = product_field(n, choices)
            self.fields[f"quantity_{n}"] = quantity_field(n)
        self.fields["payment_kind"].choices = payment_kinds
        source = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        self.set_customer_choices(chosen_customer(source))

    def item_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"product_{n}"], self[f"quantity_{n}"]) for n in range(1, ITEM_ROWS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for n in range(1, ITEM_ROWS + 1):
            if data.get(f"product_{n}") is not None and not data.get(f"quantity_{n}"):
                self.add_error(f"quantity_{n}", _("数量を入力してください。"))
        if data.get("customer") and self.chosen is None:
            self.add_error("customer", _("この顧客IDの顧客はいません。"))
        return data

    def items(self) -> tuple[tuple[int, int], ...]:
        d = self.cleaned_data
        return tuple(
            (d[f"product_{n}"], d[f"quantity_{n}"])
            for n in range(1, ITEM_ROWS + 1)
            if d.get(f"product_{n}") is not None and d.get(f"quantity_{n}")
        )
