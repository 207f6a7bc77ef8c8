"""Shipping fees by prefecture and the cash-on-delivery (代引き) fee table; the base fee, free
threshold and remote-island surcharge live on BillingPolicy."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import PREFECTURE_CHOICES


class PrefectureShippingFee(models.Model):
    """A prefecture's fee in place of the base fee (e.g. 北海道 and 沖縄県 cost more)."""

    prefecture = models.CharField(_("都道府県"), max_length=8, choices=PREFECTURE_CHOICES, unique=True)
    fee = models.PositiveIntegerField(_("送料（税込）"))

    class Meta:
        db_table = "billing_prefectureshippingfee"  # the table it had in billing: moved in place
        verbose_name = _("都道府県別送料")
        verbose_name_plural = _("都道府県別送料")
        ordering = ["prefecture"]

    def __str__(self) -> str:
        return f"{self.prefecture}: ¥{self.fee:,}"


class CodFee(models.Model):
    """代引手数料: the fee for collecting amounts up to up_to_amount; above the last row, its fee."""

    up_to_amount = models.PositiveIntegerField(_("請求金額（以下）"), unique=True)
    fee = models.PositiveIntegerField(_("手数料（税込）"))

    class Meta:
        db_table = "billing_codfee"  # the table it had in billing: moved in place
        verbose_name = _("代引手数料")
        verbose_name_plural = _("代引手数料")
        ordering = ["up_to_amount"]

    def __str__(self) -> str:
        return f"〜¥{self.up_to_amount:,}: ¥{self.fee:,}"
