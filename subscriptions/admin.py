"""Admin for subscriptions, their timeline and the shop policy, plus the course schedule preview.

The schedule, status and counters are read-only here: admin actions change them through
subscriptions.services with Actor.admin(request.user), so every change lands in the timeline.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.admin import CourseAdmin
from catalog.models import Course, Weekday, describe_cycle
from core.audit import AuditedAdminMixin
from core.errors import DomainError
from core.jsonq import json_list_has

from . import services
from .actors import Actor
from .calendar import CalendarError
from .cycles import Cycle, CycleError
from .event_display import event_changes
from .models import (
    EVENT_LABELS,
    AttentionReason,
    CancelReason,
    ShopPolicy,
    SpecialDay,
    Subscription,
    SubscriptionAddon,
    SubscriptionEvent,
    SubscriptionItem,
)
from .preview import preview_schedule
from .selectors import course_cycle_to_cycle, today_in_shop, upcoming_deliveries

PREVIEW_COUNT = 12


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("要対応")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("any", _("要対応あり")), ("none", _("要対応なし")), *AttentionReason.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "any":
            return queryset.exclude(needs_attention=[])
        if value == "none":
            return queryset.filter(needs_attention=[])
        return queryset.filter(json_list_has("needs_attention", value))


class CycleFilter(admin.SimpleListFilter):
    title = _("周期")
    parameter_name = "cycle"

    def lookups(self, request, model_admin):
        pairs = (
            Subscription.objects.order_by("cycle_unit", "cycle_interval")
            .values_list("cycle_unit", "cycle_interval")
            .distinct()
        )
        return [(f"{unit}:{interval}", describe_cycle(Cycle(unit, interval))) for unit, interval in pairs]

    def queryset(self, request, queryset):
        if not self.value() or ":" not in self.value():
            return queryset
        unit, interval = self.value().split(":", 1)
        return queryset.filter(cycle_unit=unit, cycle_interval=int(interval) if interval.isdigit() else 0)


class EventKindFilter(admin.SimpleListFilter):
    """The timeline's kinds by name (SubscriptionEvent.label), not as stored."""

    title = _("種別")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = SubscriptionEvent.objects.order_by("kind").values_list("kind", flat=True).distinct()
        return [(kind, EVENT_LABELS.get(kind, kind)) for kind in kinds]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class SubscriptionItemInline(admin.TabularInline):
    model = SubscriptionItem
    extra = 0
    fields = ("product", "quantity")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # items change through subscription_change_items (one timeline event)


class SubscriptionAddonInline(admin.TabularInline):
    """ついで買い: pending ones (no order yet) ride the next order; the others show the order they went on."""

    model = SubscriptionAddon
    extra = 0
    fields = ("product", "quantity", "order", "created_at")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("ついで買い（次回のみの追加商品）")

    def has_add_permission(self, request, obj=None):
        return False  # through subscriptions.services.addons (deadline, stock, one timeline event)


def _changes_table(event: SubscriptionEvent) -> SafeString:
    """The event's before → after, one line per value that changed, in words (event_display)."""
    rows = event_changes(event)
    if not rows:
        return SafeString("—")
    return format_html_join("", "<div>{}: {} → {}</div>", ((label, old, new) for label, old, new in rows))


class EventDisplay:
    """The timeline's columns in words: the kind's name and the changed values."""

    @admin.display(description=_("種別"), ordering="kind")
    def kind_label(self, obj: SubscriptionEvent) -> str:
        return obj.label

    @admin.display(description=_("変更内容"))
    def changes(self, obj: SubscriptionEvent) -> SafeString:
        return _changes_table(obj)


class SubscriptionEventInline(EventDisplay, admin.TabularInline):
    model = SubscriptionEvent
    extra = 0
    fields = ("created_at", "kind_label", "actor_kind", "actor", "changes", "note")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _run_action(modeladmin, request, queryset: QuerySet, call, done: str) -> None:
    """Call a service for each selected subscription; report successes and refusals separately."""
    actor = Actor.admin(request.user)
    succeeded, failed = 0, []
    for pk in queryset.values_list("pk", flat=True):
        try:
            call(pk, actor)
            succeeded += 1
        except DomainError as exc:
            failed.append(f"#{pk}: {exc.message}")
    if succeeded:
        modeladmin.message_user(
            request,
            ngettext("%(n)d件を%(done)s。", "%(n)d件を%(done)s。", succeeded)
            % {"n": succeeded, "done": done},
        )
    for line in failed:
        modeladmin.message_user(request, line, level=messages.WARNING)


@admin.action(description=_("次回をスキップ"))
def skip_next(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_skip_next(subscription_id=pk, actor=actor), "スキップしました",
    )  # fmt: skip


@admin.action(description=_("休止"))
def pause(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_pause(subscription_id=pk, actor=actor), "休止しました",
    )  # fmt: skip


@admin.action(description=_("休止から再開"))
def resume(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_resume(subscription_id=pk, actor=actor), "再開しました",
    )  # fmt: skip


@admin.action(description=_("停止（ショップ判断）"))
def suspend(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_suspend(subscription_id=pk, reason="ショップ判断", actor=actor),
        "停止しました",
    )  # fmt: skip


@admin.action(description=_("解約（ショップ判断）"))
def cancel(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_cancel(
            subscription_id=pk, reason=CancelReason.SHOP_DECISION, actor=actor
        ),
        "解約しました",
    )  # fmt: skip


@admin.action(description=_("再開（停止・解約から）"))
def restart(modeladmin, request, queryset):
    _run_action(
        modeladmin, request, queryset,
        lambda pk, actor: services.subscription_restart(subscription_id=pk, actor=actor), "再開しました",
    )  # fmt: skip


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "customer_link",
        "course",
        "status",
        "cycle_label",
        "next_delivery_date",
        "next_creation_date",
        "delivery_time_slot",
        "attention",
        "cycle_count",
        "created_at",
    )
    list_display_links = ("id",)
    list_filter = (
        "status",
        NeedsAttentionFilter,
        "course",
        CycleFilter,
        "customer__is_blacklisted",
        "delivery_time_slot",
        "next_delivery_date",
        "next_creation_date",
        "created_at",
    )
    search_fields = (
        "=id",
        "customer__name",
        "customer__name_kana",
        "customer__user__email",
        "customer__phone",
        "items__product__name",
        "items__product__sku",
    )
    search_help_text = _("定期ID・顧客名・メールアドレス・電話番号・商品名・SKUで検索")
    list_select_related = ("customer__user", "course")
    list_per_page = 50
    date_hierarchy = "next_delivery_date"
    actions = (skip_next, pause, resume, suspend, cancel, restart)
    inlines = (SubscriptionItemInline, SubscriptionAddonInline, SubscriptionEventInline)
    raw_id_fields = ("customer", "shipping_address", "payment_method", "coupon")
    readonly_fields = (
        "customer",
        "course",
        "status",
        "cycle_label",
        "anchor_date",
        "anchor_sequence",
        "skipped_sequences",
        "next_sequence",
        "next_delivery_date",
        "next_creation_date",
        "last_delivery_date",
        "delivery_time_slot",
        "shipping_address",
        "payment_method",
        "coupon",
        "points_reservation",
        "points_reservation_amount",
        "orders_created",
        "cycle_count",
        "needs_attention",
        "paused_until",
        "cancelled_at",
        "cancel_reason",
        "cancel_note",
        "suspended_reason",
        "created_at",
        "schedule_preview",
    )
    fieldsets = (
        (None, {"fields": (("customer", "course", "status"), "needs_attention")}),
        (
            _("お届けスケジュール"),
            {
                "fields": (
                    ("cycle_label", "delivery_time_slot"),
                    ("next_sequence", "next_delivery_date", "next_creation_date", "last_delivery_date"),
                    ("anchor_date", "anchor_sequence", "skipped_sequences"),
                    "schedule_preview",
                )
            },
        ),
        (
            _("お届け先・お支払い"),
            {
                "fields": (
                    "shipping_address",
                    "payment_method",
                    "coupon",
                    ("points_reservation", "points_reservation_amount"),
                )
            },
        ),
        (_("回数"), {"fields": (("orders_created", "cycle_count"),)}),
        (
            _("休止・停止・解約"),
            {
                "fields": (
                    "paused_until",
                    "suspended_reason",
                    ("cancelled_at", "cancel_reason"),
                    "cancel_note",
                )
            },
        ),
        (
            _("流入元・備考"),
            {
                "fields": (
                    "source",
                    ("utm_source", "utm_medium", "utm_campaign"),
                    "custom_fields",
                    "remarks",
                    "created_at",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        # A subscription is created by subscription_create (sign-up, import), never by a bare form.
        return False

    def has_delete_permission(self, request, obj=None):
        # A shop cancels (解約) a subscription; deleting would erase its timeline and orphan orders.
        return False

    @admin.display(description=_("顧客"), ordering="customer__name")
    def customer_link(self, obj: Subscription) -> str:
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html(
            '<a href="{}">{}</a><br><small>{}</small>', url, obj.customer.name, obj.customer.user.email
        )

    @admin.display(description=_("周期"))
    def cycle_label(self, obj: Subscription) -> str:
        return obj.cycle_label

    @admin.display(description=_("要対応"), boolean=True)
    def attention(self, obj: Subscription) -> bool:
        return bool(obj.needs_attention)

    @admin.display(description=_("今後のお届け予定"))
    def schedule_preview(self, obj: Subscription) -> SafeString:
        if obj.pk is None:
            return SafeString("")
        policy = ShopPolicy.current()
        try:
            rows = upcoming_deliveries(obj, PREVIEW_COUNT, policy)
        except (CycleError, CalendarError) as exc:
            return format_html("<span class='errornote'>{}</span>", exc)
        return render_to_string(
            "admin/subscriptions/schedule_table.html", {"rows": rows, "lead_days": policy.lead_days}
        )


@admin.register(SubscriptionEvent)
class SubscriptionEventAdmin(EventDisplay, admin.ModelAdmin):
    list_display = ("created_at", "subscription_link", "kind_label", "actor_kind", "actor", "note")
    list_filter = (EventKindFilter, "actor_kind", ("created_at", admin.DateFieldListFilter))
    search_fields = (
        "=subscription__id",
        "subscription__customer__name",
        "subscription__customer__user__email",
    )
    list_select_related = ("actor",)
    readonly_fields = ("subscription", "created_at", "actor_kind", "actor", "kind_label", "changes", "note")
    fields = readonly_fields

    @admin.display(description=_("定期購入"), ordering="subscription_id")
    def subscription_link(self, obj: SubscriptionEvent) -> str:
        url = reverse("admin:subscriptions_subscription_change", args=[obj.subscription_id])
        return format_html('<a href="{}">#{}</a>', url, obj.subscription_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the timeline is never modified


class SpecialDayInline(admin.TabularInline):
    model = SpecialDay
    extra = 1
    fields = ("date", "is_open", "note")


class ShopPolicyForm(forms.ModelForm):
    """Closed weekdays as named checkboxes; stored as the model keeps them ("5,6")."""

    closed_weekdays = forms.TypedMultipleChoiceField(
        label=ShopPolicy._meta.get_field("closed_weekdays").verbose_name,
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ShopPolicy
        fields = ["closed_weekdays"]  # the admin adds the fieldsets' others

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "closed_weekdays" not in self.data:
            self.initial["closed_weekdays"] = sorted(self.instance.closed_weekday_set)

    def clean_closed_weekdays(self) -> str:
        return ",".join(str(day) for day in sorted(set(self.cleaned_data["closed_weekdays"])))


@admin.register(ShopPolicy)
class ShopPolicyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """A singleton: the list redirects to the one row's change page (created with defaults)."""

    form = ShopPolicyForm
    inlines = (SpecialDayInline,)
    fieldsets = (
        (_("受注作成とカレンダー"), {"fields": ("lead_days", "closed_weekdays", "jp_holidays_closed")}),
        (
            _("お客様の変更"),
            {
                "fields": (
                    "change_deadline_days",
                    "date_change_max_days",
                    "pause_max_days",
                    "reminder_days_before",
                    "cycle_change_mode",
                )
            },
        ),
        (_("在庫"), {"fields": ("stock_shortfall",)}),
        (
            _("マイページ権限"),
            {
                "fields": (
                    ("allow_skip", "allow_change_date", "allow_change_cycle", "allow_change_time_slot"),
                    ("allow_change_quantity", "allow_change_address", "allow_change_payment"),
                    ("allow_points", "allow_coupon", "allow_pause", "allow_cancel", "allow_restart"),
                    ("allow_addons",),
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        policy = ShopPolicy.current()
        return redirect(reverse("admin:subscriptions_shoppolicy_change", args=[policy.pk]))


class CourseWithPreviewAdmin(CourseAdmin):
    """The course page with a preview of each allowed cycle from a chosen first delivery date."""

    change_form_template = "admin/catalog/course/change_form_preview.html"

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._preview_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _preview_context(self, request: HttpRequest, object_id) -> dict:
        policy = ShopPolicy.current()
        calendar = policy.business_calendar()
        default_first = calendar.earliest_delivery(today_in_shop(), policy.lead_days)
        first = default_first
        raw = request.GET.get("preview_from", "")
        error = ""
        if raw:
            try:
                first = date.fromisoformat(raw)
            except ValueError:
                error = _("日付の形式が正しくありません（例: 2027-01-31）。")
        previews = []
        course = Course.objects.filter(pk=object_id).first()
        for course_cycle in course.cycles.all() if course else []:
            try:
                rows = preview_schedule(
                    course_cycle_to_cycle(course_cycle),
                    anchor_date=first,
                    anchor_sequence=1,
                    start_sequence=1,
                    count=6,
                    calendar=calendar,
                    lead_days=policy.lead_days,
                )
            except (CycleError, CalendarError) as exc:
                previews.append({"label": str(course_cycle), "rows": [], "error": str(exc)})
                continue
            previews.append({"label": str(course_cycle), "rows": rows, "error": ""})
        return {
            "preview_from": first,
            "preview_default": default_first,
            "preview_error": error,
            "cycle_previews": previews,
            "lead_days": policy.lead_days,
        }


admin.site.unregister(Course)
admin.site.register(Course, CourseWithPreviewAdmin)
