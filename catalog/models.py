"""Products and courses (定期コース): what can be subscribed to, at which price for which delivery."""

from __future__ import annotations

from django.db import models
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _


class TaxRate(models.IntegerChoices):
    STANDARD = 10, _("標準税率 10%")
    REDUCED = 8, _("軽減税率 8%")


class CycleUnit(models.TextChoices):
    DAY = "day", _("日ごと")
    WEEK = "week", _("週ごと")
    MONTH = "month", _("ヶ月ごと")


class Weekday(models.IntegerChoices):
    """Python's weekday numbers (date.weekday()), named for people."""

    MONDAY = 0, _("月曜日")
    TUESDAY = 1, _("火曜日")
    WEDNESDAY = 2, _("水曜日")
    THURSDAY = 3, _("木曜日")
    FRIDAY = 4, _("金曜日")
    SATURDAY = 5, _("土曜日")
    SUNDAY = 6, _("日曜日")


class NthWeek(models.IntegerChoices):
    FIRST = 1, _("第1週")
    SECOND = 2, _("第2週")
    THIRD = 3, _("第3週")
    FOURTH = 4, _("第4週")
    LAST = -1, _("最終週")


class Product(models.Model):
    sku = models.CharField(_("SKU（商品コード）"), max_length=64, unique=True)
    name = models.CharField(_("商品名"), max_length=200)
    # In yen, tax included (税込). Never a float.
    price = models.PositiveIntegerField(_("通常価格（税込）"))
    tax_rate = models.PositiveSmallIntegerField(_("税率"), choices=TaxRate.choices, default=TaxRate.STANDARD)
    # None: stock is not tracked. Taken when a child order is created.
    stock = models.IntegerField(_("在庫数"), null=True, blank=True)
    is_active = models.BooleanField(_("販売中"), default=True)
    # The packed item (梱包サイズ), for メール便/ネコポス eligibility (catalog.packaging). None: not
    # measured, so the item only goes by a method without limits (宅配便).
    package_length_mm = models.PositiveIntegerField(_("梱包の長さ（mm）"), null=True, blank=True)
    package_width_mm = models.PositiveIntegerField(_("梱包の幅（mm）"), null=True, blank=True)
    package_thickness_mm = models.PositiveIntegerField(_("梱包の厚さ（mm）"), null=True, blank=True)
    package_weight_g = models.PositiveIntegerField(_("梱包の重さ（g）"), null=True, blank=True)
    # 予約商品: orders containing it are flagged and held until the release date (発売日).
    is_preorder = models.BooleanField(_("予約商品"), default=False, db_default=False)
    release_date = models.DateField(_("発売日"), null=True, blank=True)
    # ついで買い: customers may add it to their next delivery only, from the my page (while it is
    # active, not a pre-order and in stock: catalog.selectors.addon_offered).
    addon_available = models.BooleanField(
        _("ついで買い対象"),
        default=False,
        db_default=False,
        help_text=_("オンにすると、お客様がマイページから次回のお届けに1回だけ追加できます。"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Course(models.Model):
    """A subscription course: its products, the cycles customers may choose and prices per delivery."""

    code = models.SlugField(_("コースコード"), max_length=64, unique=True)
    name = models.CharField(_("コース名"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    is_active = models.BooleanField(_("受付中"), default=True)
    # 最低継続回数: the customer may cancel on the my page only after this many deliveries.
    min_deliveries = models.PositiveSmallIntegerField(_("最低継続回数"), default=0)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("定期コース")
        verbose_name_plural = _("定期コース")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CourseItem(models.Model):
    """A product in a course with its default quantity per delivery."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="items", verbose_name=_("定期コース")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="course_items", verbose_name=_("商品")
    )
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)

    class Meta:
        verbose_name = _("コース商品")
        verbose_name_plural = _("コース商品")
        constraints = [models.UniqueConstraint(fields=["course", "product"], name="course_item_unique")]

    def __str__(self) -> str:
        return f"{self.course} / {self.product} x{self.quantity}"


class CoursePrice(models.Model):
    """Unit price of a product from a delivery sequence on (e.g. 1st ¥980, from the 2nd ¥3,980).

    The price for sequence s is the row with the greatest from_sequence <= s; without one, the
    product's own price applies.
    """

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="prices", verbose_name=_("定期コース")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="course_prices", verbose_name=_("商品")
    )
    from_sequence = models.PositiveIntegerField(_("何回目から"), default=1)
    unit_price = models.PositiveIntegerField(_("単価（税込）"))

    class Meta:
        verbose_name = _("回数別価格")
        verbose_name_plural = _("回数別価格")
        ordering = ["course", "product", "from_sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "product", "from_sequence"], name="course_price_unique"
            ),
            models.CheckConstraint(condition=models.Q(from_sequence__gte=1), name="course_price_from_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product} from #{self.from_sequence}: ¥{self.unit_price:,}"


class CourseCycle(models.Model):
    """A cycle customers of the course may choose (e.g. every month, every 2 months, 2nd Tuesday)."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="cycles", verbose_name=_("定期コース")
    )
    unit = models.CharField(_("単位"), max_length=8, choices=CycleUnit.choices, default=CycleUnit.MONTH)
    interval = models.PositiveSmallIntegerField(_("間隔"), default=1)
    # Month cycles only. -1 means the last day / the last weekday of the month.
    day_of_month = models.SmallIntegerField(_("お届け日（日）"), null=True, blank=True)
    nth_week = models.SmallIntegerField(_("第n週"), null=True, blank=True, choices=NthWeek.choices)
    weekday = models.SmallIntegerField(_("曜日"), null=True, blank=True, choices=Weekday.choices)
    is_default = models.BooleanField(_("既定"), default=False)
    position = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("選択可能な周期")
        verbose_name_plural = _("選択可能な周期")
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return describe_cycle(self)


# The n-th weekday of a month cycle, as describe_cycle words it.
_NTH_WEEK = {1: _("第1"), 2: _("第2"), 3: _("第3"), 4: _("第4"), -1: _("最終")}


def describe_cycle(cycle: object) -> str:
    """The cycle in the words a Japanese shop uses: 1ヶ月ごと / 2週間ごと / 毎月第2火曜日 (in English:
    Every month / Every 2 weeks / Every month on the second Tuesday).

    Takes anything with unit, interval, day_of_month, nth_week and weekday attributes.
    """
    n = cycle.interval
    if cycle.unit == "day":
        return ngettext("%(n)d日ごと", "%(n)d日ごと", n) % {"n": n}
    if cycle.unit == "week":
        return ngettext("%(n)d週間ごと", "%(n)d週間ごと", n) % {"n": n}
    monthly = n == 1
    if cycle.nth_week is not None:
        values = {"n": n, "nth": _NTH_WEEK[cycle.nth_week], "weekday": WEEKDAYS[cycle.weekday]}
        if monthly:
            return gettext("毎月%(nth)s%(weekday)s") % values
        return gettext("%(n)dヶ月ごと%(nth)s%(weekday)s") % values
    if cycle.day_of_month == -1:
        return gettext("毎月末日") if monthly else gettext("%(n)dヶ月ごと末日") % {"n": n}
    if cycle.day_of_month:
        values = {"n": n, "day": cycle.day_of_month}
        return (gettext("毎月%(day)d日") if monthly else gettext("%(n)dヶ月ごと%(day)d日")) % values
    return ngettext("%(n)dヶ月ごと", "%(n)dヶ月ごと", n) % {"n": n}


class PriceKind(models.TextChoices):
    FIXED = "fixed", _("定額")
    PERCENT = "percent", _("定率")


class ProductSalePrice(models.Model):
    """A sale price (セール価格) for a period of business dates; the customer pays the lowest price."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="sale_prices", verbose_name=_("商品")
    )
    unit_price = models.PositiveIntegerField(_("セール価格（税込）"))
    starts_on = models.DateField(_("開始日"))
    # Inclusive; None: until further notice.
    ends_on = models.DateField(_("終了日"), null=True, blank=True)

    class Meta:
        verbose_name = _("セール価格")
        verbose_name_plural = _("セール価格")
        ordering = ["product", "starts_on"]
        indexes = [models.Index(fields=["starts_on", "ends_on"], name="sale_price_period_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="sale_price_period_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} ¥{self.unit_price:,} ({self.starts_on}〜{self.ends_on or ''})"


class QuantityTier(models.Model):
    """A unit price from a quantity on (1 for ¥X, 10 or more for ¥Y each)."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="quantity_tiers", verbose_name=_("商品")
    )
    min_quantity = models.PositiveIntegerField(_("数量（以上）"))
    unit_price = models.PositiveIntegerField(_("単価（税込）"))

    class Meta:
        verbose_name = _("数量別価格")
        verbose_name_plural = _("数量別価格")
        ordering = ["product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["product", "min_quantity"], name="quantity_tier_unique"),
            models.CheckConstraint(condition=models.Q(min_quantity__gte=1), name="quantity_tier_min_ge_1"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.min_quantity}〜: ¥{self.unit_price:,}"


class GroupPrice(models.Model):
    """The unit price for members of a customer group (会員ランク価格)."""

    group = models.ForeignKey(
        "customers.CustomerGroup",
        on_delete=models.CASCADE,
        related_name="prices",
        verbose_name=_("顧客グループ"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="group_prices", verbose_name=_("商品")
    )
    unit_price = models.PositiveIntegerField(_("単価（税込）"))

    class Meta:
        verbose_name = _("顧客グループ価格")
        verbose_name_plural = _("顧客グループ価格")
        constraints = [models.UniqueConstraint(fields=["group", "product"], name="group_price_unique")]

    def __str__(self) -> str:
        return f"{self.group} / {self.product}: ¥{self.unit_price:,}"


class BulkDiscount(models.Model):
    """まとめ買い割引: off the item subtotal when an order holds at least min_quantity items in all.

    Without a course it applies to every course. The largest matching discount wins; they never add up.
    """

    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        related_name="bulk_discounts",
        null=True,
        blank=True,
        verbose_name=_("定期コース"),
    )
    min_quantity = models.PositiveIntegerField(_("合計数量（以上）"))
    kind = models.CharField(_("割引種別"), max_length=8, choices=PriceKind.choices, default=PriceKind.PERCENT)
    # FIXED: yen off; PERCENT: whole percent (1-100).
    value = models.PositiveIntegerField(_("割引額・割引率"))
    is_active = models.BooleanField(_("有効"), default=True)

    class Meta:
        verbose_name = _("まとめ買い割引")
        verbose_name_plural = _("まとめ買い割引")
        ordering = ["min_quantity"]

    def __str__(self) -> str:
        values = {"n": self.min_quantity, "value": self.value}
        if self.kind == PriceKind.PERCENT:
            return gettext("%(n)d個以上 %(value)d%%引き") % values
        return gettext("%(n)d個以上 %(value)d円引き") % values


class DeliveryKind(models.TextChoices):
    PARCEL = "parcel", _("宅配便")
    MAIL_BIN = "mail_bin", _("メール便")
    NEKOPOS = "nekopos", _("ネコポス")
    OTHER = "other", _("その他")


class DeliveryMethod(models.Model):
    """A way to send an order (宅配便, メール便, ネコポス, or the shop's own) with its limits and fee.

    An empty limit is no limit. catalog.packaging decides which methods an order's items fit.
    """

    code = models.SlugField(_("コード"), max_length=30, unique=True)
    name = models.CharField(_("配送方法名"), max_length=50)
    kind = models.CharField(
        _("種類"), max_length=12, choices=DeliveryKind.choices, default=DeliveryKind.OTHER
    )
    # In yen, tax included: a flat fee (全国一律) in place of the shop's table; None: the shop's table
    # (料金設定: base or prefecture fee plus the remote-island surcharge). pricing.delivery compares
    # methods on this fee to the order's address; the free-shipping threshold waives either.
    fee = models.PositiveIntegerField(
        _("送料（税込・全国一律）"),
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "全国一律の送料。空欄なら料金設定の送料（基本送料・都道府県別送料・離島追加送料）で計算します。"
            "送料無料になる金額以上のご注文はどの配送方法でも送料無料です。"
        ),
    )
    max_length_mm = models.PositiveIntegerField(_("長さ上限（mm）"), null=True, blank=True)
    max_width_mm = models.PositiveIntegerField(_("幅上限（mm）"), null=True, blank=True)
    max_thickness_mm = models.PositiveIntegerField(_("厚さ上限（mm）"), null=True, blank=True)
    max_weight_g = models.PositiveIntegerField(_("重さ上限（g）"), null=True, blank=True)
    # メール便 goes to the letterbox: no time slot, no cash on delivery.
    allows_time_slot = models.BooleanField(_("時間帯指定可"), default=True)
    allows_cod = models.BooleanField(_("代引き可"), default=True)
    # Fitting orders get this method automatically when it is the cheapest; otherwise it is only offered.
    auto_assign = models.BooleanField(_("条件を満たせば自動で適用"), default=False)
    # The method an order has when nothing else is chosen (one per shop; usually 宅配便).
    is_default = models.BooleanField(_("既定の配送方法"), default=False)
    is_active = models.BooleanField(_("有効"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        verbose_name = _("配送方法")
        verbose_name_plural = _("配送方法")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name
