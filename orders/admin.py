"""Orders in admin: read-only records whose status changes only through orders.services.

Actions release holds and cancel through the services (stock, 定期回数 and the OrderEvent follow),
and print invoices and delivery slips (orders.documents).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.audit import AuditedAdminMixin
from core.errors import DomainError
from customers.models import Customer
from customers.selectors import blacklist_matches, same_person_matches
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_resend, notification_retry_failed
from subscriptions.models import AttentionReason, SubscriptionAddon

from . import services
from .admin_filters import (
    CreationDateRange,
    DeliveryDateRange,
    HoldReasonFilter,
    PaymentKindFilter,
    RepeatFilter,
    order_search,
)
from .documents.admin_actions import invoices_pdf, slips_pdf
from .mails import order_ref
from .models import Carrier, Order, OrderEvent, OrderLine, OrderStatus, SubscriptionGift
from .rules.bulk import order_rules_apply
from .rules.models import OrderRule


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ("product", "sku", "product_name", "quantity", "unit_price", "tax_rate", "line_total")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderAddonInline(admin.TabularInline):
    """The ついで買い this order carries (one-off items the customer added to this delivery only)."""

    model = SubscriptionAddon
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("product", "quantity", "created_at")
    readonly_fields = fields
    verbose_name_plural = _("ついで買い（この受注のみの追加商品）")

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "before", "after", "note")
    readonly_fields = fields
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


FIELD_LABELS = {
    "name": _("氏名"),
    "phone": _("電話番号"),
    "address": _("郵便番号＋住所"),
    "email": _("メールアドレス"),
}


def _person_cell(customer: Customer) -> str:
    """What staff compare: the names, phones, email and addresses as they were typed."""
    addresses = [f"〒{a.postal_code} {a.prefecture}{a.city}{a.line1}" for a in customer.addresses.all()]
    parts = [customer.name, customer.name_kana, customer.phone, customer.user.email, *addresses]
    return format_html_join("", "{}<br>", ((p,) for p in parts if p))


_EDITABLE = (
    "tracking_number",
    "carrier",
    "shipped_on",
    "delivery_time_slot",
    "is_gift",
    "gift_wrapping",
    "gift_message",
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "subscription",
        "sequence",
        "status",
        "payment_status",
        "hold_reason_labels",
        "creation_date",
        "delivery_date",
        "total",
        "repeater",
    )
    list_filter = (
        "status",
        "payment_status",
        CreationDateRange,
        DeliveryDateRange,
        ("lines__product", admin.RelatedOnlyFieldListFilter),
        ("subscription__course", admin.RelatedOnlyFieldListFilter),
        PaymentKindFilter,
        "delivery_time_slot",
        ("ship_prefecture", admin.AllValuesFieldListFilter),
        HoldReasonFilter,
        "ship_remote_island",
        "is_gift",
        "gift_wrapping",
        RepeatFilter,
        ("carrier", admin.RelatedOnlyFieldListFilter),
        "creation_date",
        "delivery_date",
    )
    # Searched by order_search (number, name in any width or kana, phone digits, email, tracking).
    search_fields = ("=id",)
    search_help_text = _("受注番号・氏名（漢字／カナ、全角／半角）・電話番号・メールアドレス・配送伝票番号")
    list_select_related = ("customer__user", "subscription__course")
    date_hierarchy = "creation_date"
    inlines = [OrderLineInline, OrderAddonInline, OrderEventInline]
    actions = [
        "release_hold",
        "mark_ready",
        "mark_shipped",
        "mark_completed",
        "cancel",
        "apply_rules",
        "hold_similar_to_blacklist",
        invoices_pdf,
        slips_pdf,
    ]
    # Editable here: the slot, the gift flag and the shipping record (through order_set_shipping).
    readonly_fields = [
        *(f.name for f in Order._meta.fields if f.name not in _EDITABLE),
        "repeater",
        "same_person",
        "mails",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in ("orders_order_changelist", "orders_order_change"):
            return queryset  # the CSV export reads this list too: no per-row subquery for a million rows
        # リピーター: the customer has an earlier order (order_customer_idx answers it per row).
        earlier = Order.objects.filter(customer_id=OuterRef("customer_id"), id__lt=OuterRef("id"))
        return queryset.annotate(is_repeat=Exists(earlier))

    @admin.display(description=_("保留理由"))
    def hold_reason_labels(self, obj: Order) -> str:
        labels = dict(AttentionReason.choices)
        return str(_("、")).join(str(labels.get(reason, reason)) for reason in obj.hold_reasons)

    @admin.display(description=_("リピーター"), boolean=False)
    def repeater(self, obj: Order) -> str:
        return _("リピーター") if getattr(obj, "is_repeat", False) else _("初回")

    @admin.display(description=_("同一人物・ブラックリスト類似"))
    def same_person(self, obj: Order) -> str:
        """リピーター候補 (other records of the same person under the shop's rule) and the blacklisted
        customers this one resembles, side by side, with the keys that agree."""
        similar = blacklist_matches(customer_id=obj.customer_id)
        candidates = same_person_matches(customer_id=obj.customer_id)
        if not similar and not candidates:
            return _("一致する顧客はいません。")
        people = {**candidates, **similar}
        found = (
            Customer.objects.filter(id__in=[obj.customer_id, *people])
            .select_related("user")
            .prefetch_related("addresses")
        )
        by_id = {c.id: c for c in found}
        me = by_id[obj.customer_id]
        rows = []
        for person_id, fields in people.items():
            other = by_id[person_id]
            kind = _("ブラックリスト類似") if person_id in similar else _("リピーター候補")
            rows.append(
                (
                    "blacklist" if person_id in similar else "candidate",
                    kind,
                    reverse("admin:customers_customer_change", args=[person_id]),
                    str(other.name),
                    _person_cell(me),
                    _person_cell(other),
                    str(_("、")).join(str(FIELD_LABELS[f]) for f in fields),
                )
            )
        return format_html(
            '<table class="same-person"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>',
            _("区分"),
            _("該当顧客"),
            _("この顧客"),
            _("該当顧客の登録内容"),
            _("一致した項目"),
            format_html_join(
                "",
                '<tr class="match-{}"><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                rows,
            ),
        )

    def save_model(self, request: HttpRequest, obj: Order, form, change: bool) -> None:  # noqa: ANN001
        shipping = {"carrier", "tracking_number", "shipped_on"} & set(form.changed_data)
        other = [
            name
            for name in ("delivery_time_slot", "is_gift", "gift_wrapping", "gift_message")
            if name in form.changed_data
        ]
        if other:
            obj.save(update_fields=[*other, "updated_at"])
        if shipping:
            services.order_set_shipping(
                order_id=obj.pk,
                carrier_id=obj.carrier_id,
                tracking_number=obj.tracking_number,
                shipped_on=obj.shipped_on,
                actor_user=request.user,
            )

    @admin.display(description=_("メール送信履歴"))
    def mails(self, obj: Order) -> str:
        rows = Notification.objects.filter(ref=order_ref(obj.pk)).order_by("id")
        if not rows:
            return _("送信したメールはありません。")
        resend = _("再送")
        retry = _("再試行")
        return format_html(
            '<table class="order-mails"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>'
            "{}</table>",
            _("作成日時"),
            _("件名"),
            _("状態"),
            _("再送試行回数"),
            _("エラー"),
            format_html_join(
                "",
                '<tr class="mail-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
                '<td><button type="submit" class="button" formaction="{}" name="mail" value="{}">{}</button></td></tr>',
                (
                    (
                        n.status,
                        n.created_at.strftime("%Y-%m-%d %H:%M"),
                        n.subject,
                        n.get_status_display(),
                        n.retries,
                        n.error[:200],
                        reverse("admin:orders_order_mail_resend", args=[obj.pk]),
                        n.pk,
                        retry if n.status == NotificationStatus.FAILED else resend,
                    )
                    for n in rows
                ),
            ),
        )

    def get_urls(self):  # noqa: ANN201
        view = self.admin_site.admin_view(self.mail_resend_view)
        return [
            path("<int:order_id>/mails/resend/", view, name="orders_order_mail_resend"),
            *super().get_urls(),
        ]

    def mail_resend_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """再送 (a sent mail: a new copy) or 再試行 (a failed one: try the same row again)."""
        back = redirect(reverse("admin:orders_order_change", args=[order_id]))
        if request.method != "POST" or not self.has_change_permission(request):
            return back
        notice = get_object_or_404(Notification, pk=request.POST.get("mail", ""), ref=order_ref(order_id))
        if notice.status == NotificationStatus.FAILED:
            notification_retry_failed(ids=[notice.pk], max_retries=1000)
            self.message_user(request, _("メールを再試行しました。"), messages.SUCCESS)
        else:
            notification_resend(notification_id=notice.pk)
            self.message_user(request, _("メールを再送しました。"), messages.SUCCESS)
        return back

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # child orders come from the nightly run

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None):  # noqa: ANN201
        """A phone order (手動受注) is a checkout: the storefront's page makes the subscription and its
        first order through the checkout service (same pricing and stock check)."""
        return redirect("admin:storefront_checkout_add")

    @admin.display(description=_("受注番号"), ordering="id")
    def number(self, obj: Order) -> str:
        return obj.number

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Order], search_term: str):  # noqa: ANN201
        if not search_term.strip():
            return queryset, False
        return order_search(queryset, search_term), False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # cancel instead: stock and 定期回数 must follow

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], action, done: str) -> None:  # noqa: ANN001
        ok = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                action(order_id=order_id, actor_user=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{order_id:08d}: {exc.message}", messages.ERROR)
            else:
                ok += 1
        if ok:
            self.message_user(request, f"{done}: {ok}", messages.SUCCESS)

    @admin.action(description=_("保留を解除する"), permissions=["change"])
    def release_hold(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        held = queryset.filter(status=OrderStatus.ON_HOLD)
        self._each(request, held, services.order_release_hold, str(_("保留を解除しました")))

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Order], status: str) -> None:
        def move(*, order_id: int, actor_user: object) -> None:
            services.order_set_status(order_id=order_id, status=status, actor_user=actor_user)

        self._each(request, queryset, move, str(OrderStatus(status).label))

    @admin.action(description=_("出荷準備中にする"), permissions=["change"])
    def mark_ready(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.READY)

    @admin.action(description=_("発送済みにする"), permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.SHIPPED)

    @admin.action(description=_("完了にする"), permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._set_status(request, queryset, OrderStatus.COMPLETED)

    @admin.action(description=_("キャンセルする"), permissions=["change"])
    @admin.action(description=_("ブラックリスト類似の顧客の受注を保留にする"), permissions=["change"])
    def hold_similar_to_blacklist(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        held = services.orders_hold_similar_to_blacklist(
            order_ids=list(queryset.values_list("pk", flat=True)), actor_user=request.user
        )
        self.message_user(
            request,
            _("%(n)d件の受注をブラックリスト類似で保留にしました。") % {"n": len(held)},
            messages.SUCCESS,
        )

    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, services.order_cancel, str(_("キャンセルしました")))

    @admin.action(description=_("受注ルールを適用する"), permissions=["change"])
    def apply_rules(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """The shop's order rules on the selection now (set-based; each change in the timeline)."""
        counts = order_rules_apply(
            order_ids=list(queryset.values_list("pk", flat=True)), actor_user=request.user
        )
        self.message_user(
            request,
            _("受注ルールを適用しました: %(seen)d件中 %(changed)d件を変更")
            % {"seen": counts.get("rules_orders_seen", 0), "changed": counts.get("rules_orders_changed", 0)},
            messages.SUCCESS,
        )


@admin.register(OrderRule)
class OrderRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The list of rules; they are written and simulated on the back office's rule editor."""

    list_display = ("position", "name", "is_active", "stop_after_match", "updated_at")
    list_display_links = ("name",)
    ordering = ("position", "id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # through the editor, which validates

    def has_change_permission(self, request: HttpRequest, obj: OrderRule | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return redirect(reverse("backoffice:rules"))


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "tracking_url_pattern", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    search_fields = ("name", "code")

    def has_delete_permission(self, request: HttpRequest, obj: Carrier | None = None) -> bool:
        return obj is None or not obj.orders.exists()


@admin.register(SubscriptionGift)
class SubscriptionGiftAdmin(admin.ModelAdmin):
    """ギフト設定: a subscription whose orders are gifts (each new order inherits wrapping and message)."""

    list_display = ("subscription", "wrapping", "message")
    list_filter = ("wrapping",)
    raw_id_fields = ("subscription",)
