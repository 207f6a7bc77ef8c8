"""Orders (受注) and their lines. A child order of a subscription is unique per (subscription, sequence)."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.payment_kinds import PaymentKind


class OrderStatus(models.TextChoices):
    NEW = "new", _("新規受付")
    ON_HOLD = "on_hold", _("保留（要対応）")
    AWAITING_PAYMENT = "awaiting_payment", _("入金待ち")
    READY = "ready", _("出荷準備中")
    SHIPPED = "shipped", _("発送済み")
    COMPLETED = "completed", _("完了")
    CANCELLED = "cancelled", _("キャンセル")
    RETURNED = "returned", _("返品")


# The order status pipeline: the only moves orders.services.order_set_status allows.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.NEW: frozenset(
        {OrderStatus.ON_HOLD, OrderStatus.AWAITING_PAYMENT, OrderStatus.READY, OrderStatus.CANCELLED}
    ),
    OrderStatus.ON_HOLD: frozenset({OrderStatus.NEW, OrderStatus.CANCELLED}),
    OrderStatus.AWAITING_PAYMENT: frozenset({OrderStatus.READY, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}),
    OrderStatus.READY: frozenset({OrderStatus.SHIPPED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.RETURNED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}


class PaymentStatus(models.TextChoices):
    """Kept apart from the order status: a shipped order can still be unpaid (代引き, 後払い)."""

    UNPAID = "unpaid", _("未決済")
    PROCESSING = "processing", _("決済処理中")
    AUTHORIZED = "authorized", _("与信済み")
    PAID = "paid", _("決済済み")
    FAILED = "failed", _("決済失敗")
    ACTION_REQUIRED = "action_required", _("本人認証待ち")
    AWAITING_OFFLINE = "awaiting_offline", _("入金待ち")
    REFUNDED = "refunded", _("返金済み")
    PARTIALLY_REFUNDED = "partially_refunded", _("一部返金")
    NOT_REQUIRED = "not_required", _("決済不要")
    CANCELLED = "cancelled", _("取消")


class Carrier(models.Model):
    """A delivery company (配送業者) and the page where a parcel is tracked.

    tracking_url_pattern holds `{number}` where the tracking number goes; empty when the carrier has
    no tracking page (the mail then shows no link).
    """

    code = models.SlugField(_("コード"), max_length=30, unique=True)
    name = models.CharField(_("配送業者名"), max_length=50, unique=True)
    tracking_url_pattern = models.CharField(_("追跡URLパターン"), max_length=300, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("配送業者")
        verbose_name_plural = _("配送業者")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name

    def tracking_url(self, number: str) -> str:
        """The carrier's tracking page for a number; '' without a number or a pattern."""
        if not number or not self.tracking_url_pattern:
            return ""
        return self.tracking_url_pattern.replace("{number}", quote(number.strip(), safe=""))


class Order(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders", verbose_name=_("顧客")
    )
    # Set for child orders of a subscription; (subscription, sequence) is unique.
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("定期購入"),
    )
    sequence = models.PositiveIntegerField(_("定期回数"), null=True, blank=True)
    status = models.CharField(
        _("受注状態"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW
    )
    payment_status = models.CharField(
        _("決済状態"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    # AttentionReason values that put the order on hold; an admin releases it.
    hold_reasons = models.JSONField(_("保留理由"), default=list, blank=True)

    # Business dates in the shop's time zone.
    creation_date = models.DateField(_("受注作成日"))
    delivery_date = models.DateField(_("お届け日"), null=True, blank=True)
    delivery_time_slot = models.CharField(_("お届け時間帯"), max_length=8, blank=True)

    # Shipping address as it was when the order was created.
    ship_name = models.CharField(_("お届け先氏名"), max_length=100)
    ship_postal_code = models.CharField(_("郵便番号"), max_length=8)
    ship_prefecture = models.CharField(_("都道府県"), max_length=8)
    ship_city = models.CharField(_("市区町村"), max_length=100)
    ship_line1 = models.CharField(_("番地"), max_length=200)
    ship_line2 = models.CharField(_("建物名"), max_length=200, blank=True)
    ship_phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    ship_remote_island = models.BooleanField(_("離島"), default=False)
    # A gift (ギフト) order's delivery slip shows no prices. Set at creation: from the subscription's
    # SubscriptionGift, or because the recipient is not the orderer.
    is_gift = models.BooleanField(_("ギフト"), default=False)
    # What the customer wrote with the order (備考); a rule can send such orders to 要確認.
    customer_comment = models.TextField(_("お客様コメント"), blank=True, default="", db_default="")
    # Labels staff and order rules put on the order (e.g. 確認不要, ギフト包装); a list of strings.
    tags = models.JSONField(
        _("タグ"), default=list, blank=True, db_default=models.Value([], models.JSONField())
    )
    # 宅配便 / メール便 / ネコポス …: the method the order was priced with (pricing.delivery);
    # empty: the shop's default method (an order from before methods existed, or none fitted).
    delivery_method = models.ForeignKey(
        "catalog.DeliveryMethod",
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("配送方法"),
    )
    # When the shop's order rules ran on this order at its creation; None: not yet (the nightly
    # rules stage picks it up, once: it claims only rows still None, with SKIP LOCKED).
    rules_applied_at = models.DateTimeField(_("受注ルール適用日時"), null=True, blank=True)
    gift_wrapping = models.BooleanField(_("ギフト包装"), default=False, db_default=False)
    gift_message = models.CharField(_("ギフトメッセージ"), max_length=200, blank=True, db_default="")

    payment_method = models.ForeignKey(
        "billing.PaymentMethod",
        on_delete=models.SET_NULL,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("支払方法"),
    )
    payment_kind = models.CharField(_("支払方法"), max_length=16, blank=True, choices=PaymentKind.choices)
    coupon = models.ForeignKey(
        "pricing.Coupon",
        on_delete=models.SET_NULL,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("クーポン"),
    )

    # Amounts in yen, tax included.
    # total = items_subtotal - discount_total + shipping_fee + wrapping_fee + cod_fee - points_used.
    items_subtotal = models.PositiveIntegerField(_("商品小計"), default=0)
    discount_total = models.PositiveIntegerField(_("割引"), default=0)
    shipping_fee = models.PositiveIntegerField(_("送料"), default=0)
    cod_fee = models.PositiveIntegerField(_("代引手数料"), default=0)
    # ギフト包装料: the shop's fee when the order is gift-wrapped, a standard-rate line of its own.
    wrapping_fee = models.PositiveIntegerField(_("ギフト包装料"), default=0, db_default=0)
    points_used = models.PositiveIntegerField(_("利用ポイント"), default=0)
    total = models.PositiveIntegerField(_("合計"), default=0)
    # Per tax rate: {"10": {"base": 3980, "tax": 361}, "8": {...}} — rounded once per rate.
    tax_summary = models.JSONField(_("税率別内訳"), default=dict, blank=True)

    tracking_number = models.CharField(_("お問い合わせ番号"), max_length=40, blank=True)
    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("配送業者"),
    )
    # The business date the parcel left (発送日), as the warehouse reports it; shipped_at is when the
    # status moved.
    shipped_on = models.DateField(_("発送日"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("発送日時"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("キャンセル日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        verbose_name = _("受注")
        verbose_name_plural = _("受注")
        ordering = ["-id"]
        constraints = [
            # Exactly one child order per delivery, whatever the code does.
            models.UniqueConstraint(
                fields=["subscription", "sequence"], name="order_subscription_sequence_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(subscription__isnull=True) | models.Q(sequence__isnull=False),
                name="order_child_has_sequence",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-id"], name="order_customer_idx"),
            models.Index(fields=["status", "delivery_date"], name="order_status_delivery_idx"),
            models.Index(fields=["payment_status", "creation_date"], name="order_payment_idx"),
            # The rules stage's claim: the few orders whose rules have not run yet.
            models.Index(
                fields=["id"],
                name="order_rules_pending_idx",
                condition=models.Q(rules_applied_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return gettext("受注 #%(id)s") % {"id": self.pk}

    @property
    def number(self) -> str:
        return f"{self.pk:08d}"

    @property
    def tracking_url(self) -> str:
        return self.carrier.tracking_url(self.tracking_number) if self.carrier_id else ""


class SubscriptionGift(models.Model):
    """A subscription sent as a gift: each child order the nightly run creates inherits it (is_gift,
    the wrapping and the message, read with the due row). Lives in orders because orders are what it
    shapes; the subscription stays as it is."""

    subscription = models.OneToOneField(
        "subscriptions.Subscription",
        on_delete=models.CASCADE,
        related_name="gift",
        verbose_name=_("定期購入"),
    )
    wrapping = models.BooleanField(_("ギフト包装"), default=False)
    message = models.CharField(_("ギフトメッセージ"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ギフト設定")
        verbose_name_plural = _("ギフト設定")

    def __str__(self) -> str:
        return gettext("定期購入 #%(id)s のギフト設定") % {"id": self.subscription_id}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("受注"))
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("商品")
    )
    # Copied at creation: later catalogue edits do not rewrite orders.
    sku = models.CharField(_("SKU（商品コード）"), max_length=64)
    product_name = models.CharField(_("商品名"), max_length=200)
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = models.PositiveIntegerField(_("単価（税込）"))
    tax_rate = models.PositiveSmallIntegerField(_("税率"))
    line_total = models.PositiveIntegerField(_("小計（税込）"))

    class Meta:
        verbose_name = _("受注明細")
        verbose_name_plural = _("受注明細")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product_name} x{self.quantity}"


class OrderEvent(models.Model):
    """Every status change of an order, by whom. Never modified."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("受注"))
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("実行者"),
    )
    kind = models.CharField(_("種別"), max_length=40)
    before = models.JSONField(_("変更前"), default=dict, blank=True)
    after = models.JSONField(_("変更後"), default=dict, blank=True)
    note = models.TextField(_("メモ"), blank=True)

    class Meta:
        verbose_name = _("受注履歴")
        verbose_name_plural = _("受注履歴")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


from orders.rules.models import OrderRule, OrderRulesWalk  # noqa: E402, F401 - registered with the orders app
