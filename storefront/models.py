"""A checkout (one per idempotency key) and the final-confirmation record (最終確認画面の記録).

Both are storefront's own tables; everything a checkout creates elsewhere (customer, address,
payment method, subscription, order) is written by the owning apps' services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckoutChannel(models.TextChoices):
    WEB = "web", _("ウェブ")
    API = "api", _("API")
    ADMIN = "admin", _("管理画面（電話・FAX・はがき受注）")
    # A one-off order (手動受注) staff take without a subscription: the row holds the order only.
    ONE_OFF = "oneoff", _("管理画面（手動受注・単品）")


class Checkout(models.Model):
    """One checkout per idempotency key: a retry with the same key gets this row's result.

    The row is inserted first in the checkout's transaction, so a second request with the same key
    waits on the unique index until the first commits (then replays it) or rolls back (then runs).
    """

    key = models.CharField(_("冪等キー"), max_length=100, unique=True)
    channel = models.CharField(_("経路"), max_length=8, choices=CheckoutChannel.choices)
    # SHA-256 of the request as normalised by storefront.services: the same key with another body is 409.
    request_hash = models.CharField(_("リクエストのハッシュ"), max_length=64)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="checkouts",
        null=True,
        blank=True,
        verbose_name=_("顧客"),
    )
    subscription = models.OneToOneField(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="checkout",
        null=True,
        blank=True,
        verbose_name=_("定期購入"),
    )
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="checkout",
        null=True,
        blank=True,
        verbose_name=_("初回受注"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("受付担当者"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("お申し込み")
        verbose_name_plural = _("お申し込み")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.key}"


class FinalConfirmation(models.Model):
    """What the customer saw on the final-confirmation screen (特定商取引法 第12条の6) when they
    placed the order: the terms and amounts as shown, the course version and the time. Never modified."""

    subscription = models.OneToOneField(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="final_confirmation",
        verbose_name=_("定期購入"),
    )
    checkout = models.OneToOneField(
        Checkout, on_delete=models.PROTECT, related_name="confirmation", verbose_name=_("お申し込み")
    )
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="+", verbose_name=_("定期コース")
    )
    # SHA-256 of the course's terms (products, prices per delivery, cycles, minimum, fees) as shown.
    course_version = models.CharField(_("コースの版"), max_length=64)
    language = models.CharField(_("表示言語"), max_length=8)
    # The screen's content: {"title", "sections": [{"heading", "rows": [[label, value], …]}], …}.
    shown = models.JSONField(_("表示内容"))
    button_label = models.CharField(_("確定ボタンの文言"), max_length=100)
    confirmed_at = models.DateTimeField(_("確定日時"))

    class Meta:
        verbose_name = _("最終確認画面の記録")
        verbose_name_plural = _("最終確認画面の記録")
        ordering = ["-confirmed_at"]

    def __str__(self) -> str:
        return f"#{self.subscription_id} {self.confirmed_at:%Y-%m-%d %H:%M}"
