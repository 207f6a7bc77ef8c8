"""Customers: a profile on the auth user, their addresses, groups and the blacklist."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The stored value is the Japanese name (what carriers and documents use); the label follows the
# language, so an English form reads "Tokyo" while the address keeps 東京都.
PREFECTURE_CHOICES = [
    ("北海道", _("北海道")),
    ("青森県", _("青森県")),
    ("岩手県", _("岩手県")),
    ("宮城県", _("宮城県")),
    ("秋田県", _("秋田県")),
    ("山形県", _("山形県")),
    ("福島県", _("福島県")),
    ("茨城県", _("茨城県")),
    ("栃木県", _("栃木県")),
    ("群馬県", _("群馬県")),
    ("埼玉県", _("埼玉県")),
    ("千葉県", _("千葉県")),
    ("東京都", _("東京都")),
    ("神奈川県", _("神奈川県")),
    ("新潟県", _("新潟県")),
    ("富山県", _("富山県")),
    ("石川県", _("石川県")),
    ("福井県", _("福井県")),
    ("山梨県", _("山梨県")),
    ("長野県", _("長野県")),
    ("岐阜県", _("岐阜県")),
    ("静岡県", _("静岡県")),
    ("愛知県", _("愛知県")),
    ("三重県", _("三重県")),
    ("滋賀県", _("滋賀県")),
    ("京都府", _("京都府")),
    ("大阪府", _("大阪府")),
    ("兵庫県", _("兵庫県")),
    ("奈良県", _("奈良県")),
    ("和歌山県", _("和歌山県")),
    ("鳥取県", _("鳥取県")),
    ("島根県", _("島根県")),
    ("岡山県", _("岡山県")),
    ("広島県", _("広島県")),
    ("山口県", _("山口県")),
    ("徳島県", _("徳島県")),
    ("香川県", _("香川県")),
    ("愛媛県", _("愛媛県")),
    ("高知県", _("高知県")),
    ("福岡県", _("福岡県")),
    ("佐賀県", _("佐賀県")),
    ("長崎県", _("長崎県")),
    ("熊本県", _("熊本県")),
    ("大分県", _("大分県")),
    ("宮崎県", _("宮崎県")),
    ("鹿児島県", _("鹿児島県")),
    ("沖縄県", _("沖縄県")),
]
PREFECTURES = [value for value, _label in PREFECTURE_CHOICES]


# The languages a customer can use the shop in (settings.LANGUAGES), named for the shop's admin.
LANGUAGE_CHOICES = [("ja", _("日本語")), ("en", _("英語"))]


class CustomerGroup(models.Model):
    """A customer group (会員ランク); prices can differ per group."""

    code = models.SlugField(_("コード"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        verbose_name = _("顧客グループ")
        verbose_name_plural = _("顧客グループ")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer",
        verbose_name=_("ログインユーザー"),
    )
    name = models.CharField(_("氏名"), max_length=100)
    name_kana = models.CharField(_("氏名（カナ）"), max_length=100, blank=True)
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    group = models.ForeignKey(
        CustomerGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("顧客グループ"),
    )
    # Members earn and use points; guests do not.
    is_member = models.BooleanField(_("会員"), default=True)
    # A blacklisted customer's child orders are still created, but on hold (要対応).
    is_blacklisted = models.BooleanField(_("ブラックリスト"), default=False, db_index=True)
    blacklist_reason = models.CharField(_("ブラックリスト理由"), max_length=200, blank=True)
    # The language the customer last used the shop in (the my page sets it from each signed-in
    # request); their emails and documents are rendered in it. The database default serves rows
    # written in bulk outside the ORM (COPY in the benches and imports).
    language = models.CharField(
        _("言語"), max_length=8, choices=LANGUAGE_CHOICES, default="ja", db_default="ja"
    )
    stripe_customer_id = models.CharField(_("Stripe顧客ID"), max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("顧客")
        verbose_name_plural = _("顧客")

    def __str__(self) -> str:
        return f"{self.name} <{self.user.email}>"

    @property
    def email(self) -> str:
        return self.user.email


class Address(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("顧客")
    )
    label = models.CharField(_("ラベル"), max_length=50, blank=True)
    recipient_name = models.CharField(_("お届け先氏名"), max_length=100)
    postal_code = models.CharField(_("郵便番号"), max_length=8)
    prefecture = models.CharField(_("都道府県"), max_length=8, choices=PREFECTURE_CHOICES)
    city = models.CharField(_("市区町村"), max_length=100)
    line1 = models.CharField(_("番地"), max_length=200)
    line2 = models.CharField(_("建物名・部屋番号"), max_length=200, blank=True)
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    # 離島: shipping may carry a surcharge.
    is_remote_island = models.BooleanField(_("離島"), default=False)
    is_default = models.BooleanField(_("既定"), default=False)
    # Set when the address is found undeliverable; the subscription then needs attention.
    is_invalid = models.BooleanField(_("住所不備"), default=False)

    class Meta:
        verbose_name = _("住所")
        verbose_name_plural = _("住所")
        ordering = ["-is_default", "id"]

    def __str__(self) -> str:
        return gettext("〒%(postal_code)s %(prefecture)s%(city)s%(line1)s %(name)s") % {
            "postal_code": self.postal_code,
            "prefecture": self.prefecture,
            "city": self.city,
            "line1": self.line1,
            "name": self.recipient_name,
        }

    def snapshot(self) -> dict[str, str | bool]:
        """The fields an order copies, so later edits to the address do not rewrite history."""
        return {
            "ship_name": self.recipient_name,
            "ship_postal_code": self.postal_code,
            "ship_prefecture": self.prefecture,
            "ship_city": self.city,
            "ship_line1": self.line1,
            "ship_line2": self.line2,
            "ship_phone": self.phone,
            "ship_remote_island": self.is_remote_island,
        }


class MatchRule(models.Model):
    """The shop's rule for 「同一人物」: which normalised keys (customers.matching) must agree, and how
    many, for a customer to count as a repeater candidate (リピーター候補) of another record. One row
    (MatchRule.current()). The blacklist check keeps the issue's fixed rule: two of the four."""

    match_name = models.BooleanField(_("氏名"), default=True)
    match_phone = models.BooleanField(_("電話番号"), default=True)
    match_address = models.BooleanField(_("郵便番号＋住所"), default=True)
    match_email = models.BooleanField(_("メールアドレス"), default=True)
    min_fields = models.PositiveSmallIntegerField(
        _("一致が必要な項目数"),
        default=2,
        help_text=_("選んだ項目のうち、いくつ一致すれば同一人物とみなすか"),
    )

    class Meta:
        verbose_name = _("リピーター判別ルール")
        verbose_name_plural = _("リピーター判別ルール")

    def __str__(self) -> str:
        return gettext("リピーター判別ルール")

    @classmethod
    def current(cls) -> MatchRule:
        return cls.objects.order_by("id").first() or cls.objects.create()

    @property
    def fields(self) -> list[str]:
        return [f for f in ("name", "phone", "address", "email") if getattr(self, f"match_{f}")]
