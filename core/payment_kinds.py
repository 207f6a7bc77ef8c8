"""How an order is paid: one list for orders (its payment_kind field), pricing (the COD fee) and billing
(the gateways behind each kind), so every page and mail names a kind the same way."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentKind(models.TextChoices):
    CARD = "card", _("クレジットカード")
    BANK_TRANSFER = "bank_transfer", _("銀行振込")
    KONBINI = "konbini", _("コンビニ払い")
    COD = "cod", _("代金引換")
