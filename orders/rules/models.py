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
    """New orders waiting for their payment before the rules are done with them (orders.rules.kept):
    the orders of one generation batch that walk alike, and their walk when the charge goes the usual
    way. The stage after the charges takes the row (orders.rules.pending) and deletes it in the same
    transaction as it writes what the rules did, so a second run finds nothing left to do."""

    # The business date the orders were created on: the stage for a date takes the rows up to it.
    creation_date = models.DateField(_("受注作成日"))
    # The ids of the orders (a JSON list): written once by the generation batch; staff applying the
    # rules on demand before the stage take their orders out of it.
    order_ids = models.JSONField(_("受注"), default=list)
    # JSON text: [tags before the rules, delivery method before, tags written with the order, method
    # written]. The orders were written with the tags and method the walk most likely gives; the
    # stage walks again from the tags and method before the rules.
    state = models.TextField(_("ルール適用前後のタグと配送方法"))
    # The order as the usual charge leaves it (status, payment, hold reasons, tags, method) and the
    # rules' version: an order standing exactly so at the stage gets the usual walk's `result` (JSON:
    # its timeline rows, the state it ends in when that is more than the tags and method already
    # written, its mails, whether it changed the order).
    expected = models.TextField(_("想定される決済後の状態"))
    result = models.TextField(_("想定どおりのときの結果"))

    class Meta:
        app_label = "orders"
        verbose_name = _("支払い待ちの受注ルール")
        verbose_name_plural = _("支払い待ちの受注ルール")
        indexes = [models.Index(fields=["creation_date", "id"], name="order_rules_walk_date_idx")]

    def __str__(self) -> str:
        return str(self.pk)
