"""Shop policy, the Subscription and its timeline.

A subscription's schedule is fully determined by (cycle, anchor_date, anchor_sequence) and the
skipped sequences; next_* fields are derived from them and stored so the nightly run can find due
rows with one indexed query. Only subscriptions.services writes them.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import CycleUnit, NthWeek, Weekday, describe_cycle
from core.models import SingletonModel

from .calendar import BusinessCalendar
from .cycles import Cycle


class StockShortfallPolicy(models.TextChoices):
    HOLD = "hold", _("受注を保留する")
    SKIP = "skip", _("今回のお届けをスキップしてお客様に連絡する")


class CycleChangeMode(models.TextChoices):
    KEEP_NEXT_DATE = "keep_next_date", _("次回お届け日を維持する")
    FROM_LAST_DELIVERY = "from_last_delivery", _("前回お届け日から再計算する")


class ShopPolicy(SingletonModel):
    """The shop's rules. One row (pk=1); ShopPolicy.current() creates it with defaults."""

    lead_days = models.PositiveSmallIntegerField(
        _("受注作成リードタイム（営業日）"), default=5, help_text=_("お届け日の何営業日前に受注を作成するか")
    )
    # Comma-separated weekdays, 0=Mon … 6=Sun (e.g. "5,6" for Saturday and Sunday).
    closed_weekdays = models.CharField(_("定休日（曜日）"), max_length=20, blank=True, default="5,6")
    jp_holidays_closed = models.BooleanField(_("祝日を休業日とする"), default=True)
    # Customers may change the next delivery until this many days before its creation date.
    change_deadline_days = models.PositiveSmallIntegerField(_("変更締切（受注作成日の何日前）"), default=2)
    reminder_days_before = models.PositiveSmallIntegerField(_("事前通知（受注作成日の何日前）"), default=3)
    # How far ahead a customer may move the next delivery date.
    date_change_max_days = models.PositiveSmallIntegerField(_("お届け日変更の上限（日）"), default=60)
    # A pause's planned resume date is at most this many days after today (the day itself allowed).
    pause_max_days = models.PositiveSmallIntegerField(
        _("休止の上限（日）"),
        default=365,
        validators=[MinValueValidator(1)],
        help_text=_("休止時に指定できる再開日は、今日からこの日数後まで。"),
    )
    stock_shortfall = models.CharField(
        _("在庫不足時"), max_length=8, choices=StockShortfallPolicy.choices, default=StockShortfallPolicy.HOLD
    )
    cycle_change_mode = models.CharField(
        _("周期変更時"),
        max_length=20,
        choices=CycleChangeMode.choices,
        default=CycleChangeMode.KEEP_NEXT_DATE,
    )
    # My-page permissions (マイページ権限).
    allow_skip = models.BooleanField(_("スキップ"), default=True)
    allow_change_date = models.BooleanField(_("お届け日変更"), default=True)
    allow_change_cycle = models.BooleanField(_("周期変更"), default=True)
    allow_change_time_slot = models.BooleanField(_("時間帯変更"), default=True)
    allow_change_quantity = models.BooleanField(_("数量変更"), default=True)
    allow_change_address = models.BooleanField(_("お届け先変更"), default=True)
    allow_change_payment = models.BooleanField(_("支払方法変更"), default=True)
    allow_points = models.BooleanField(_("ポイント利用"), default=True)
    allow_coupon = models.BooleanField(_("クーポン利用"), default=True)
    allow_pause = models.BooleanField(_("休止"), default=True)
    allow_cancel = models.BooleanField(_("解約"), default=True)
    allow_restart = models.BooleanField(_("再開"), default=True)
    allow_addons = models.BooleanField(_("ついで買い"), default=True)
    # Set by the nightly run as it starts generating: from then on an order "created today" can no
    # longer be made today, so changes must aim at a creation date after it.
    last_nightly_run_date = models.DateField(_("最終受注作成バッチ日"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("ショップ設定")
        verbose_name_plural = _("ショップ設定")

    def __str__(self) -> str:
        return str(_("ショップ設定"))

    @property
    def closed_weekday_set(self) -> frozenset[int]:
        return frozenset(int(p) for p in self.closed_weekdays.split(",") if p.strip() != "")

    def latest_resume_on(self, today: date) -> date:
        """The furthest resume date a pause may name today."""
        return today + timedelta(days=self.pause_max_days)

    def business_calendar(self) -> BusinessCalendar:
        closures, openings = set(), set()
        for day in self.special_days.all():
            (openings if day.is_open else closures).add(day.date)
        return BusinessCalendar(
            closed_weekdays=self.closed_weekday_set,
            jp_holidays=self.jp_holidays_closed,
            special_closures=frozenset(closures),
            special_openings=frozenset(openings),
        )


class SpecialDay(models.Model):
    """A special closure (臨時休業, 年末年始) or a special opening (臨時営業) that wins over the rules."""

    policy = models.ForeignKey(
        ShopPolicy, on_delete=models.CASCADE, related_name="special_days", verbose_name=_("ショップ設定")
    )
    date = models.DateField(_("日付"))
    is_open = models.BooleanField(_("営業日"), default=False, help_text=_("オン: 臨時営業 / オフ: 臨時休業"))
    note = models.CharField(_("メモ"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("特別営業日・休業日")
        verbose_name_plural = _("特別営業日・休業日")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["policy", "date"], name="special_day_unique")]

    def __str__(self) -> str:
        state = gettext("営業") if self.is_open else gettext("休業")
        return f"{self.date} {state}"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("継続中")
    PAUSED = "paused", _("休止中")
    SUSPENDED = "suspended", _("停止中")
    CANCELLED = "cancelled", _("解約済み")


class TimeSlot(models.TextChoices):
    """Delivery time slots (お届け時間帯) as Japanese carriers offer them."""

    NONE = "", _("指定なし")
    MORNING = "08-12", _("午前中")
    SLOT_14_16 = "14-16", _("14時〜16時")
    SLOT_16_18 = "16-18", _("16時〜18時")
    SLOT_18_20 = "18-20", _("18時〜20時")
    SLOT_19_21 = "19-21", _("19時〜21時")


class AttentionReason(models.TextChoices):
    """Why a subscription needs attention (要対応); its next order is created on hold."""

    BLACKLISTED = "blacklisted", _("ブラックリスト顧客")
    PAYMENT_FAILED = "payment_failed", _("決済エラー")
    STOCK_SHORT = "stock_short", _("在庫不足")
    BAD_ADDRESS = "bad_address", _("住所不備")
    NEEDS_AUTHENTICATION = "needs_authentication", _("本人認証待ち")
    # Order holds only (customers.matching): the customer agrees with a blacklisted one on two or more
    # of name, phone, postal code + address, email.
    SIMILAR_TO_BLACKLISTED = "similar_to_blacklisted", _("ブラックリスト類似")
    # Order holds only (customers.address_check): the postal code does not exist or names another
    # prefecture or city than the address.
    ADDRESS_MISMATCH = "address_mismatch", _("郵便番号と住所の不一致")


class PointsReservation(models.TextChoices):
    NONE = "none", _("使わない")
    ALL = "all", _("すべて使う")
    AMOUNT = "amount", _("指定ポイントを使う")


class CancelReason(models.TextChoices):
    TOO_MUCH_STOCK = "too_much_stock", _("商品が余っている")
    PRICE = "price", _("価格が高い")
    NOT_EFFECTIVE = "not_effective", _("効果を感じない")
    MOVING = "moving", _("引っ越し・長期不在")
    OTHER_PRODUCT = "other_product", _("他の商品に切り替える")
    SHOP_DECISION = "shop_decision", _("ショップ判断")
    PAYMENT = "payment", _("決済不可")
    OTHER = "other", _("その他")


class Subscription(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("顧客")
    )
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("定期コース")
    )
    status = models.CharField(
        _("状態"), max_length=12, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )

    # The cycle (周期). Month cycles: day_of_month 1-31 or -1 (last), or nth_week 1-4/-1 with weekday 0-6.
    cycle_unit = models.CharField(_("周期単位"), max_length=8, choices=CycleUnit.choices)
    cycle_interval = models.PositiveSmallIntegerField(_("周期間隔"), default=1)
    cycle_day_of_month = models.SmallIntegerField(_("お届け日（日）"), null=True, blank=True)
    cycle_nth_week = models.SmallIntegerField(_("第n週"), null=True, blank=True, choices=NthWeek.choices)
    cycle_weekday = models.SmallIntegerField(_("曜日"), null=True, blank=True, choices=Weekday.choices)

    # The schedule anchor: delivery anchor_sequence falls on anchor_date; later ones follow the cycle.
    anchor_date = models.DateField(_("基準日"))
    anchor_sequence = models.PositiveIntegerField(_("基準回"), default=1)
    # Sequences the customer or shop skipped. Later dates do not move.
    skipped_sequences = models.JSONField(_("スキップした回"), default=list, blank=True)

    # Derived from the above (see services.subscription_recompute_next); the nightly run's index.
    next_sequence = models.PositiveIntegerField(_("次回の回数"), default=1)
    next_delivery_date = models.DateField(_("次回お届け日"), null=True, blank=True)
    next_creation_date = models.DateField(_("次回受注作成日"), null=True, blank=True)
    last_delivery_date = models.DateField(_("前回お届け日"), null=True, blank=True)

    delivery_time_slot = models.CharField(
        _("お届け時間帯"), max_length=8, choices=TimeSlot.choices, default=TimeSlot.NONE, blank=True
    )
    shipping_address = models.ForeignKey(
        "customers.Address",
        on_delete=models.PROTECT,
        related_name="subscriptions",
        null=True,
        blank=True,
        verbose_name=_("お届け先"),
    )
    payment_method = models.ForeignKey(
        "billing.PaymentMethod",
        on_delete=models.SET_NULL,
        related_name="subscriptions",
        null=True,
        blank=True,
        verbose_name=_("支払方法"),
    )

    # 定期内受注数: child orders ever created; never decreases.
    orders_created = models.PositiveIntegerField(_("定期内受注数"), default=0)
    # 定期回数: the count prices and coupons key on; a cancelled child order can give it back.
    cycle_count = models.PositiveIntegerField(_("定期回数"), default=0)

    # AttentionReason values; non-empty means the next order is created on hold (要対応).
    needs_attention = models.JSONField(_("要対応理由"), default=list, blank=True)

    points_reservation = models.CharField(
        _("ポイント予約"), max_length=8, choices=PointsReservation.choices, default=PointsReservation.NONE
    )
    points_reservation_amount = models.PositiveIntegerField(_("予約ポイント数"), default=0)
    coupon = models.ForeignKey(
        "pricing.Coupon",
        on_delete=models.SET_NULL,
        related_name="subscriptions",
        null=True,
        blank=True,
        verbose_name=_("クーポン"),
    )

    paused_until = models.DateField(_("再開予定日"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("解約日時"), null=True, blank=True)
    cancel_reason = models.CharField(_("解約理由"), max_length=20, choices=CancelReason.choices, blank=True)
    cancel_note = models.TextField(_("解約理由（詳細）"), blank=True)
    suspended_reason = models.CharField(_("停止理由"), max_length=200, blank=True)

    # Where the customer came from (流入元) and shop-defined fields.
    source = models.CharField(_("流入元"), max_length=100, blank=True)
    utm_source = models.CharField(_("流入元（utm_source）"), max_length=100, blank=True)
    utm_medium = models.CharField(_("流入メディア（utm_medium）"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("キャンペーン（utm_campaign）"), max_length=100, blank=True)
    custom_fields = models.JSONField(_("カスタム項目"), default=dict, blank=True)
    remarks = models.TextField(_("備考"), blank=True)

    created_at = models.DateTimeField(_("申込日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("定期購入")
        verbose_name_plural = _("定期購入")
        ordering = ["-id"]
        indexes = [
            # The nightly run: active rows whose creation date has come.
            models.Index(
                fields=["next_creation_date", "id"],
                name="sub_due_idx",
                condition=models.Q(status="active"),
            ),
            # Reminders and paused rows due to resume.
            models.Index(fields=["status", "next_creation_date"], name="sub_status_creation_idx"),
            models.Index(fields=["status", "paused_until"], name="sub_status_paused_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(cycle_interval__gte=1), name="sub_interval_ge_1"),
            models.CheckConstraint(
                condition=models.Q(next_sequence__gte=models.F("anchor_sequence")), name="sub_next_ge_anchor"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.course} ({self.get_status_display()})"

    @property
    def cycle(self) -> Cycle:
        return Cycle(
            unit=self.cycle_unit,
            interval=self.cycle_interval,
            day_of_month=self.cycle_day_of_month,
            nth_week=self.cycle_nth_week,
            weekday=self.cycle_weekday,
        )

    @property
    def cycle_label(self) -> str:
        return describe_cycle(self.cycle)

    @property
    def skipped(self) -> frozenset[int]:
        return frozenset(int(s) for s in self.skipped_sequences)


class SubscriptionItem(models.Model):
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="items", verbose_name=_("定期購入")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="subscription_items", verbose_name=_("商品")
    )
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)

    class Meta:
        verbose_name = _("定期商品")
        verbose_name_plural = _("定期商品")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "product"], name="sub_item_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="sub_item_qty_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product} x{self.quantity}"


class SubscriptionAddon(models.Model):
    """A one-off item (ついで買い) on the subscription's next order only, not the ones after.

    Pending (order empty) until the nightly run creates the subscription's next order: the run puts
    it on that order as a line priced at the product's one-off price (pricing.selectors
    PricingCatalog.price), takes its stock with the course items and sets `order` in the same
    transaction. From then on it belongs to that order and is never changed again. A customer adds,
    changes and removes pending ones until the next delivery's change deadline
    (subscriptions.services.addons)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="addons", verbose_name=_("定期購入")
    )
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        related_name="subscription_addons",
        verbose_name=_("商品"),
    )
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    # The order it went onto; None while it waits for the next order. Set once, by the nightly run.
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="addons",
        null=True,
        blank=True,
        verbose_name=_("追加先の受注"),
    )
    created_at = models.DateTimeField(_("追加日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("ついで買い")
        verbose_name_plural = _("ついで買い")
        ordering = ["id"]
        constraints = [
            # One pending line per product: adding it again adds to its quantity.
            models.UniqueConstraint(
                fields=["subscription", "product"],
                condition=models.Q(order__isnull=True),
                name="sub_addon_pending_unique",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="sub_addon_qty_ge_1"),
        ]
        indexes = [
            # The nightly claim reads a batch's pending add-ons; the my page a subscription's.
            models.Index(
                fields=["subscription", "id"],
                name="sub_addon_pending_idx",
                condition=models.Q(order__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} x{self.quantity}"


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", _("お客様")
    ADMIN = "admin", _("管理者")
    SYSTEM = "system", _("システム")


# What people call each SubscriptionEvent.kind: the services' EventKind values, then the kinds the
# nightly run writes (scheduler.generation.writers). Shown on the my page and in the admin.
EVENT_LABELS = {
    "created": _("お申し込み"),
    "skipped": _("スキップ"),
    "unskipped": _("スキップ取り消し"),
    "next_date_changed": _("お届け日変更"),
    "cycle_changed": _("周期変更"),
    "time_slot_changed": _("時間帯変更"),
    "items_changed": _("数量変更"),
    "address_changed": _("お届け先変更"),
    "payment_method_changed": _("お支払い方法変更"),
    "points_reservation_changed": _("ポイント利用設定"),
    "coupon_changed": _("クーポン変更"),
    "paused": _("休止"),
    "resumed": _("再開"),
    "suspended": _("停止"),
    "cancelled": _("解約"),
    "restarted": _("定期再開"),
    "attention_added": _("要対応に設定"),
    "attention_cleared": _("要対応を解除"),
    "cycle_given_back": _("定期回数の戻し"),
    "addon_added": _("ついで買いの追加"),
    "addon_changed": _("ついで買いの数量変更"),
    "addon_removed": _("ついで買いの取り消し"),
    "order_created": _("受注作成"),
    "sequence_skipped_stock_short": _("在庫不足のためスキップ"),
    "schedule_advanced": _("次回へ繰り越し"),
}


class SubscriptionEvent(models.Model):
    """The timeline: every change, by whom, with the values before and after. Never modified."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="events", verbose_name=_("定期購入")
    )
    created_at = models.DateTimeField(_("日時"), auto_now_add=True, db_index=True)
    actor_kind = models.CharField(_("実行者の種別"), max_length=10, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("実行者"),
    )
    kind = models.CharField(_("種別"), max_length=40, db_index=True)
    before = models.JSONField(_("変更前"), default=dict, blank=True)
    after = models.JSONField(_("変更後"), default=dict, blank=True)
    note = models.TextField(_("メモ"), blank=True)

    class Meta:
        verbose_name = _("定期履歴")
        verbose_name_plural = _("定期履歴")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscription", "-created_at"], name="sub_event_timeline_idx")]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at, ZoneInfo(settings.SHOP_TIMEZONE))
        return f"{when:%Y-%m-%d %H:%M} {self.label}"

    @property
    def label(self) -> str:
        """The kind in words (a kind this table does not know shows as it is stored)."""
        return str(EVENT_LABELS.get(self.kind, self.kind))
