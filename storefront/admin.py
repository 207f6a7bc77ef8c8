"""Admin: checkouts and their final-confirmation records (read-only), and the phone order page
(電話・FAX・はがき受注) where staff place a subscription and its first order through the same
checkout service as the web and the API: same pricing, same stock check, staff on the timeline."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing.models import PaymentKind
from catalog.models import Course
from core.errors import DomainError
from customers.models import Customer
from subscriptions.models import Subscription, TimeSlot

from .admin_staff import (
    CustomerChoicesMixin,
    OneOffOrderForm,
    address_field,
    card_field,
    chosen_customer,
    customer_search_context,
)
from .models import Checkout, CheckoutChannel, FinalConfirmation
from .one_off import OneOffInput, one_off_place, one_off_quote
from .services import PAYMENT_KINDS, CheckoutInput, checkout_place, checkout_quote


def _sections_html(record: FinalConfirmation) -> str:
    parts = []
    for section in record.shown.get("sections", []):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", section["rows"])
        parts.append(format_html("<h3>{}</h3><table>{}</table>", section["heading"], rows))
    return format_html_join("", "{}", ((p,) for p in parts))


class FinalConfirmationInline(admin.StackedInline):
    model = FinalConfirmation
    fk_name = "subscription"
    can_delete = False
    extra = 0
    max_num = 0
    fields = ("confirmed_at", "course", "course_version", "language", "button_label", "shown_sections")
    readonly_fields = fields
    verbose_name = _("最終確認画面の記録")

    @admin.display(description=_("表示内容"))
    def shown_sections(self, obj: FinalConfirmation) -> str:
        return _sections_html(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The subscription's admin page shows what the customer confirmed. SubscriptionAdmin lives in
# subscriptions, which must not know this app (layers), so the inline is added from here.
_subscription_admin = admin.site._registry.get(Subscription)
if _subscription_admin is not None and FinalConfirmationInline not in _subscription_admin.inlines:
    _subscription_admin.inlines = (*_subscription_admin.inlines, FinalConfirmationInline)


@admin.register(FinalConfirmation)
class FinalConfirmationAdmin(admin.ModelAdmin):
    list_display = ("subscription", "course", "confirmed_at", "language")
    list_select_related = ("subscription__course", "course")
    search_fields = (
        "subscription__id",
        "subscription__customer__name",
        "subscription__customer__user__email",
    )
    fields = (
        "subscription", "checkout", "course", "course_version", "language", "confirmed_at", "button_label",
        "shown_sections",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("表示内容"))
    def shown_sections(self, obj: FinalConfirmation) -> str:
        return _sections_html(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of what a customer agreed to is kept


class PhoneOrderForm(CustomerChoicesMixin, forms.Form):
    key = forms.CharField(widget=forms.HiddenInput)
    customer = forms.ModelChoiceField(
        label=_("既存の顧客（顧客ID）"), queryset=Customer.objects.select_related("user").order_by("-id"),
        required=False, widget=forms.NumberInput,
        help_text=_("上の検索で選ぶと入ります。新規のお客様は空欄のまま、下の欄に入力してください。"),
    )  # fmt: skip
    email = forms.EmailField(label=_("メールアドレス（新規顧客）"), required=False)
    name = forms.CharField(label=_("氏名（新規顧客）"), max_length=100, required=False)
    phone = forms.CharField(label=_("電話番号"), max_length=20, required=False)
    course = forms.ModelChoiceField(label=_("定期コース"), queryset=Course.objects.order_by("code"))
    quantity = forms.IntegerField(label=_("数量（セット数）"), min_value=1, initial=1)
    cycle_id = forms.IntegerField(label=_("周期ID（空欄でコースの既定）"), required=False)
    first_delivery_date = forms.DateField(label=_("初回お届け日（空欄で最短）"), required=False)
    time_slot = forms.ChoiceField(label=_("お届け時間帯"), choices=TimeSlot.choices, required=False)
    address_id = address_field()
    recipient_name = forms.CharField(label=_("お届け先氏名"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("郵便番号"), max_length=10, required=False)
    city = forms.CharField(label=_("市区町村・町名（空欄で郵便番号から）"), max_length=100, required=False)
    line1 = forms.CharField(label=_("番地"), max_length=200, required=False)
    line2 = forms.CharField(label=_("建物名・部屋番号"), max_length=200, required=False)
    payment_kind = forms.ChoiceField(
        label=_("お支払い方法"), choices=[(k.value, k.label) for k in PAYMENT_KINDS], initial=PaymentKind.COD
    )
    payment_method_id = card_field()
    coupon_code = forms.CharField(label=_("クーポンコード"), max_length=40, required=False)
    source = forms.CharField(label=_("流入元"), max_length=100, required=False, initial="phone")
    remarks = forms.CharField(label=_("備考"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        self.set_customer_choices(chosen_customer(source))

    def checkout_input(self) -> CheckoutInput:
        d = self.cleaned_data
        return CheckoutInput(
            course_code=d["course"].code, quantity=d["quantity"], cycle_id=d.get("cycle_id"),
            first_delivery_date=d.get("first_delivery_date"), time_slot=d.get("time_slot") or "",
            email=d.get("email") or "", name=d.get("name") or "", phone=d.get("phone") or "",
            address_id=d.get("address_id"), recipient_name=d.get("recipient_name") or "",
            postal_code=d.get("postal_code") or "", city=d.get("city") or "", line1=d.get("line1") or "",
            line2=d.get("line2") or "", payment_kind=d["payment_kind"], payment_method_id=d.get("payment_method_id"),
            coupon_code=d.get("coupon_code") or "", source=d.get("source") or "", remarks=d.get("remarks") or "",
        )  # fmt: skip


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "customer", "subscription_link", "order_link", "staff", "created_at")
    list_filter = ("channel",)
    list_select_related = ("customer", "subscription", "order", "staff")
    search_fields = ("key", "customer__name", "customer__user__email")
    readonly_fields = (
        "key",
        "channel",
        "request_hash",
        "customer",
        "subscription",
        "order",
        "staff",
        "created_at",
    )

    @admin.display(description=_("定期購入"))
    def subscription_link(self, obj: Checkout) -> str:
        if not obj.subscription_id:
            return "-"
        url = reverse("admin:subscriptions_subscription_change", args=[obj.subscription_id])
        return format_html('<a href="{}">#{}</a>', url, obj.subscription_id)

    @admin.display(description=_("初回受注"))
    def order_link(self, obj: Checkout) -> str:
        if not obj.order_id:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            False
            if obj is not None and request.method == "POST"
            else super().has_view_permission(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """電話・FAX・はがき受注: the checkout service with staff as the actor."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        quote = None
        if request.method == "POST":
            form = PhoneOrderForm(request.POST)
            if form.is_valid():
                data = form.checkout_input()
                customer = form.cleaned_data.get("customer")
                try:
                    if "preview" in request.POST:
                        quote = checkout_quote(data=data, customer=customer, staff=True)
                    else:
                        result = checkout_place(
                            data=data, key=form.cleaned_data["key"], channel=CheckoutChannel.ADMIN,
                            customer=customer, staff_user=request.user,
                        )  # fmt: skip
                        self.message_user(
                            request,
                            _("定期購入 #%(sub)s と初回受注 %(order)s を作成しました。")
                            % {"sub": result.subscription.pk, "order": result.order.number},
                            messages.SUCCESS,
                        )
                        return redirect("admin:subscriptions_subscription_change", result.subscription.pk)
                except DomainError as error:
                    form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            form = PhoneOrderForm(initial={"key": uuid.uuid4().hex, "customer": request.GET.get("customer")})
        context = {
            **self._staff_page_context(request, form),
            "title": _("電話・FAX・はがき受注（定期購入の作成）"),
            "quote": quote,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/storefront/phone_order.html", context)

    def _staff_page_context(self, request: HttpRequest, form: forms.Form) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            **customer_search_context(request),
            "form": form,
            "chosen_customer": form.chosen,
            "opts": self.model._meta,
            "has_view_permission": True,
        }

    def get_urls(self):  # noqa: ANN201
        view = self.admin_site.admin_view(self.one_off_view)
        return [path("one-off/", view, name="storefront_checkout_one_off"), *super().get_urls()]

    def one_off_view(self, request: HttpRequest) -> HttpResponse:
        """手動受注: a one-off order without a subscription, with staff as the actor."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        kinds = [(k.value, k.label) for k in PAYMENT_KINDS]
        quote = None
        if request.method == "POST":
            form = OneOffOrderForm(request.POST, payment_kinds=kinds)
            if form.is_valid():
                try:
                    quote = self._one_off_submit(request, form)
                except DomainError as error:
                    form.add_error(_form_field(error.field, form), error.message)
                    quote = None
                else:
                    if isinstance(quote, HttpResponse):
                        return quote
        else:
            form = OneOffOrderForm(
                initial={"key": uuid.uuid4().hex, "customer": request.GET.get("customer")},
                payment_kinds=kinds,
            )
        context = {
            **self._staff_page_context(request, form),
            "title": _("手動受注（単品のご注文）"),
            "quote": quote,
        }
        return TemplateResponse(request, "admin/storefront/one_off_order.html", context)

    def _one_off_submit(self, request: HttpRequest, form: OneOffOrderForm) -> Any:
        """The quote to show (内容を確認する), or the redirect to the new order (注文を確定する)."""
        d = form.cleaned_data
        data = OneOffInput(
            items=form.items(), delivery_date=d.get("delivery_date"), time_slot=d.get("time_slot") or "",
            email=d.get("email") or "", name=d.get("name") or "", name_kana=d.get("name_kana") or "",
            phone=d.get("phone") or "", address_id=d.get("address_id"), recipient_name=d.get("recipient_name") or "",
            postal_code=d.get("postal_code") or "", city=d.get("city") or "", line1=d.get("line1") or "",
            line2=d.get("line2") or "", payment_kind=d["payment_kind"], payment_method_id=d.get("payment_method_id"),
            coupon_code=d.get("coupon_code") or "", remarks=d.get("remarks") or "",
        )  # fmt: skip
        if "preview" in request.POST:
            return one_off_quote(data=data, customer=form.chosen)
        result = one_off_place(data=data, key=d["key"], staff_user=request.user, customer=form.chosen)
        self.message_user(
            request,
            _("手動受注 %(order)s を作成しました。") % {"order": result.order.number},
            messages.SUCCESS,
        )
        return redirect("admin:orders_order_change", result.order.pk)


def _form_field(field: str | None, form: forms.Form) -> str | None:
    """The field a refusal belongs to; the items' refusals (stock, products) head the form."""
    return field if field in form.fields else None
