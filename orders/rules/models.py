"""The shop's order rules (受注ルール): an ordered list, each conditions and actions stored as data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderRule(models.Model):
    """One rule. `conditions`: groups of {"field", "op", "value"} — AND inside a group, OR between
    groups, [] for every order; `actions`: [{"type", "value"}]. Both are validated when saved
    (orders.rules.services.order_rule_save) against orders.rules.engine's field and action tables."""

    name = models.CharField(_("ルール名"), max_length=100)
    # Lower runs first; ties by id.
    position = models.PositiveIntegerField(_("順番"), default=0)
    is_active = models.BooleanField(_("有効"), default=True)
    # When it matches, the rules after it do not run for that order.
    stop_after_match = models.BooleanField(_("一致したら以降のルールを実行しない"), default=False)
    conditions = models.JSONField(_("条件"), default=list, blank=True)
    actions = models.JSONField(_("アクション"), default=list)
    note = models.TextField(_("メモ"), blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        app_label = "orders"
        verbose_name = _("受注ルール")
        verbose_name_plural = _("受注ルール")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class OrderRulesWalk(models.Model):
    """The walk of the rules over some new orders waiting for their payment when the charge goes the
    usual way (orders.rules.kept): one row for all the orders of a generation batch that walk alike,
    which OrderRulesPending rows point to. Written and read by orders.rules only; the stage deletes
    the rows no pending order points to any more."""

    # JSON text: [tags before the rules, delivery method before, tags written with the order, method
    # written]. The order was written with the tags and method the walk most likely gives; the stage
    # walks again from the tags and method before the rules.
    state = models.TextField(_("ルール適用前後のタグと配送方法"))
    # The order as the usual charge leaves it (status, payment, hold reasons, tags, method) and the
    # rules' version: an order standing exactly so at the stage gets the usual walk's `result` (JSON:
    # its timeline rows, the state it ends in when that is more than the tags and method already
    # written, its mails, whether it changed the order).
    expected = models.TextField(_("想定される決済後の状態"))
    result = models.TextField(_("想定どおりのときの結果"))

    class Meta:
        app_label = "orders"
        verbose_name = _("支払い待ちの受注ルールの判定")
        verbose_name_plural = _("支払い待ちの受注ルールの判定")

    def __str__(self) -> str:
        return str(self.pk)


class OrderRulesPending(models.Model):
    """A new order whose rules wait for its payment (orders.rules.pending): the nightly run walked the
    rules over it when it created it, found that the walk depends on what the charge does, and left
    it here for the rules stage after the charges. The row goes when the stage applies the rules, in
    the same transaction, so a second run finds nothing left to do."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rules_pending",
        verbose_name=_("受注"),
    )
    # The OrderRulesWalk it reads like; a plain id (no constraint, no index): written in the same
    # batch, and its row is deleted only once nothing points to it.
    walk_id = models.BigIntegerField(_("判定"))

    class Meta:
        app_label = "orders"
        verbose_name = _("支払い待ちの受注ルール")
        verbose_name_plural = _("支払い待ちの受注ルール")

    def __str__(self) -> str:
        return str(self.order_id)
