"""The checkout form: plain HTML fields, so it works without JavaScript (Stripe Elements only for a
new card). Choices come from the course and the quote; checks beyond a field's shape are the
service's (checkout_quote), whose DomainError lands on the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from billing.models import PaymentKind
from subscriptions.models import TimeSlot

from . import terms
from .services import MAX_QUANTITY, PAYMENT_KINDS

NEW = "new"


class CheckoutForm(forms.Form):
    quantity = forms.TypedChoiceField(
        label=_("数量（セット数）"),
        coerce=int,
        choices=[(n, n) for n in range(1, MAX_QUANTITY + 1)],
        initial=1,
    )
    cycle_id = forms.TypedChoiceField(
        label=_("お届け周期"), coerce=int, choices=(), required=False, empty_value=None
    )
    first_delivery_date = forms.DateField(label=_("初回お届け日"), widget=forms.Select, required=False)
    time_slot = forms.ChoiceField(label=_("お届け時間帯"), choices=TimeSlot.choices, required=False)
    # A new customer's account (allauth's user, made when the order is placed).
    email = forms.EmailField(label=_("メールアドレス"), required=False)
    name = forms.CharField(label=_("お名前"), max_length=100, required=False)
    name_kana = forms.CharField(label=_("お名前（カナ）"), max_length=100, required=False)
    phone = forms.CharField(label=_("電話番号"), max_length=20, required=False)
    password = forms.CharField(
        label=_("パスワード（マイページ用）"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    # The address: a saved one, or a new one.
    address_id = forms.ChoiceField(label=_("お届け先"), required=False, widget=forms.RadioSelect)
    recipient_name = forms.CharField(label=_("お届け先氏名"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("郵便番号"), max_length=10, required=False)
    city = forms.CharField(label=_("市区町村・町名"), max_length=100, required=False)
    line1 = forms.CharField(label=_("番地"), max_length=200, required=False)
    line2 = forms.CharField(label=_("建物名・部屋番号"), max_length=200, required=False)
    payment_kind = forms.ChoiceField(
        label=_("お支払い方法"), widget=forms.RadioSelect, initial=PaymentKind.CARD,
        choices=[(k.value, k.label) for k in PAYMENT_KINDS],
    )  # fmt: skip
    payment_method_id = forms.ChoiceField(
        label=_("登録済みのカード"), required=False, widget=forms.RadioSelect
    )
    stripe_payment_method_id = forms.CharField(required=False, widget=forms.HiddenInput)
    coupon_code = forms.CharField(label=_("クーポンコード"), max_length=40, required=False)
    points = forms.IntegerField(label=_("利用ポイント"), min_value=0, required=False, initial=0)

    def __init__(
        self, *args: Any, course: Any, customer: Any, saved: dict[str, list], dates: list, **kw: Any
    ):
        super().__init__(*args, **kw)
        self.customer = customer
        self.fields["cycle_id"].choices = [(c.pk, terms.cycle_label(c)) for c in course.cycles.all()]
        default = next((c for c in course.cycles.all() if c.is_default), None)
        if default is not None:
            self.fields["cycle_id"].initial = default.pk
        self.fields["first_delivery_date"].widget.choices = [
            (d.isoformat(), terms.format_date(d)) for d in dates
        ]
        if customer is None:
            for name in ("email", "name", "password"):
                self.fields[name].required = True
            for name in ("address_id", "payment_method_id", "points"):
                del self.fields[name]
        else:
            for name in ("email", "name", "name_kana", "password"):
                del self.fields[name]
            addresses = saved["addresses"]
            self.fields["address_id"].choices = [(str(a.pk), _address_label(a)) for a in addresses] + [
                (NEW, _("新しいお届け先"))
            ]
            self.fields["address_id"].initial = str(addresses[0].pk) if addresses else NEW
            cards = saved["cards"]
            self.fields["payment_method_id"].choices = [(str(c.pk), str(c)) for c in cards] + [
                (NEW, _("新しいカード"))
            ]
            self.fields["payment_method_id"].initial = str(cards[0].pk) if cards else NEW
            if not customer.is_member:
                del self.fields["points"]

    def new_address(self) -> bool:
        return self.cleaned_data.get("address_id", NEW) in (NEW, "", None)

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if password:
            validate_password(password)
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.new_address():
            for name in ("postal_code", "line1") + (("recipient_name",) if self.customer else ()):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("この項目は必須です。"))
        return data


def _address_label(address: Any) -> str:
    return (
        f"{address.recipient_name} 〒{address.postal_code} {address.prefecture}{address.city}{address.line1}"
    )
