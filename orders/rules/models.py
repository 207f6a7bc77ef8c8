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
