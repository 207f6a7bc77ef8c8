"""Stored payment methods. No card number or CVC is ever stored: only the gateway's reference."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentKind(models.TextChoices):
    CARD = "card", _("クレジットカード")
    BANK_TRANSFER = "bank_transfer", _("銀行振込")
    KONBINI = "konbini", _("コンビニ払い")
    COD = "cod", _("代金引換")


class PaymentMethod(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="payment_methods")
    kind = models.CharField(_("種別"), max_length=16, choices=PaymentKind.choices)
    # Cards: the Stripe PaymentMethod id (pm_…) and what a customer needs to recognise the card.
    stripe_payment_method_id = models.CharField(max_length=64, blank=True, db_index=True)
    brand = models.CharField(_("ブランド"), max_length=20, blank=True)
    last4 = models.CharField(_("下4桁"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_default = models.BooleanField(_("既定"), default=False)
    # Detached methods stay for history but can no longer be charged or chosen.
    is_active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支払方法")
        verbose_name_plural = _("支払方法")
        ordering = ["-is_default", "-id"]

    def __str__(self) -> str:
        if self.kind == PaymentKind.CARD:
            return f"{self.brand or 'card'} •••• {self.last4}"
        return self.get_kind_display()
