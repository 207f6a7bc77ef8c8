"""The my-page forms: each one turns a POST into the keyword arguments of one service call.

`cleaned_data` is what mypage.actions passes on, so the pages and the API (whose serializers
produce the same keys) call the services in exactly the same way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import PaymentMethod
from catalog.models import CourseCycle
from core.formats import format_date
from customers.models import Address
from subscriptions.models import CancelReason, PointsReservation, ShopPolicy, Subscription, TimeSlot
from subscriptions.selectors import course_cycle_to_cycle, today_in_shop
from subscriptions.services.details import MAX_POINTS_RESERVATION

from .selectors import DateWindow

MAX_QUANTITY = 99
# A reservation larger than any balance only means "all"; the cap keeps the value inside the column.
# Reasons a customer can give; the others are for the shop's own cancellations.
CUSTOMER_CANCEL_REASONS = [
    (value, label)
    for value, label in CancelReason.choices
    if value not in {CancelReason.SHOP_DECISION, CancelReason.PAYMENT}
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class EmptyForm(forms.Form):
    """Actions that need nothing but the button (skip, resume, restart, remove the coupon)."""


class UnskipForm(forms.Form):
    sequence = forms.IntegerField(min_value=1)


class ChangeDateForm(forms.Form):
    new_date = forms.DateField(label=_("新しいお届け日"), widget=DateInput())

    def __init__(self, *args: Any, window: DateWindow | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = window
        if window is not None:
            self.fields["new_date"].widget.attrs.update(
                {"min": window.earliest.isoformat(), "max": window.latest.isoformat()}
            )

    def clean_new_date(self) -> date:
        value = self.cleaned_data["new_date"]
        if self.window is None or not self.window.earliest <= value <= self.window.latest:
            raise forms.ValidationError(_("選択できない日付です。表示されている範囲からお選びください。"))
        return value


class ChangeCycleForm(forms.Form):
    course_cycle = forms.TypedChoiceField(label=_("お届け周期"), coerce=int)

    def __init__(self, *args: Any, cycles: list[CourseCycle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycles = {cycle.pk: cycle for cycle in cycles}
        self.fields["course_cycle"].choices = [(cycle.pk, str(cycle)) for cycle in cycles]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "course_cycle" in data:
            data["cycle"] = course_cycle_to_cycle(self.cycles[data.pop("course_cycle")])
        return data


class TimeSlotForm(forms.Form):
    time_slot = forms.ChoiceField(label=_("お届け時間帯"), choices=TimeSlot.choices, required=False)


class QuantitiesForm(forms.Form):
    """One quantity field per item, named `qty_<product id>`."""

    def __init__(self, *args: Any, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(subscription.items.all())
        for item in self.items:
            self.fields[f"qty_{item.product_id}"] = forms.IntegerField(
                label=item.product.name, min_value=1, max_value=MAX_QUANTITY, initial=item.quantity
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            data = {"quantities": {item.product_id: data[f"qty_{item.product_id}"] for item in self.items}}
        return data


class AddressChoiceForm(forms.Form):
    address_id = forms.TypedChoiceField(label=_("お届け先"), coerce=int)

    def __init__(self, *args: Any, addresses: list[Address], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["address_id"].choices = [(address.pk, str(address)) for address in addresses]


class NewAddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["recipient_name", "postal_code", "prefecture", "city", "line1", "line2", "phone"]

    def clean_postal_code(self) -> str:
        digits = self.cleaned_data["postal_code"].replace("-", "").replace("−", "").strip()
        if len(digits) != 7 or not digits.isdigit():
            raise forms.ValidationError(_("郵便番号は7桁の数字で入力してください。"))
        return f"{digits[:3]}-{digits[3:]}"


class PaymentMethodChoiceForm(forms.Form):
    payment_method_id = forms.TypedChoiceField(label=_("お支払い方法"), coerce=int)

    def __init__(self, *args: Any, methods: list[PaymentMethod], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payment_method_id"].choices = [(method.pk, str(method)) for method in methods]


class PointsForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("ポイント利用"), choices=PointsReservation.choices, widget=forms.RadioSelect
    )
    amount = forms.IntegerField(
        label=_("利用ポイント数"), min_value=0, max_value=MAX_POINTS_RESERVATION, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("mode") == PointsReservation.AMOUNT:
            if not data.get("amount"):
                self.add_error("amount", _("利用するポイント数を入力してください。"))
        else:
            data["amount"] = 0
        return data


class CouponForm(forms.Form):
    code = forms.CharField(label=_("クーポンコード"), max_length=40)

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class AddonAddForm(forms.Form):
    """ついで買い: a product (one of those offered, checked by the service) and how many."""

    product_id = forms.IntegerField(label=_("追加する商品"), min_value=1)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=MAX_QUANTITY, initial=1)


class AddonChangeForm(forms.Form):
    addon_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=MAX_QUANTITY)


class AddonRemoveForm(forms.Form):
    addon_id = forms.IntegerField(min_value=1)


class PauseForm(forms.Form):
    resume_on = forms.DateField(label=_("再開日（任意）"), required=False, widget=DateInput())

    def __init__(self, *args: Any, policy: ShopPolicy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    def clean_resume_on(self) -> date | None:
        value = self.cleaned_data.get("resume_on")
        today = today_in_shop()
        if value is not None and value <= today:
            raise forms.ValidationError(_("再開日には明日以降の日付を指定してください。"))
        if value is not None and self.policy is not None and value > self.policy.latest_resume_on(today):
            raise forms.ValidationError(
                _("再開日は %(latest)s までの日付を指定してください（休止は最長 %(days)s 日）。")
                % {
                    "latest": format_date(self.policy.latest_resume_on(today)),
                    "days": self.policy.pause_max_days,
                },
                code="resume_date_too_far",
            )
        return value


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("解約理由"), choices=CUSTOMER_CANCEL_REASONS, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("詳しい理由（任意）"), required=False, max_length=1000, widget=forms.Textarea
    )

    def clean_reason(self) -> CancelReason:
        return CancelReason(self.cleaned_data["reason"])
