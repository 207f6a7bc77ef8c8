"""Model bases shared by every app, and the staff-side records every app's admin writes (audit, login)."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class SingletonModel(models.Model):
    """A shop settings page: one row (pk=1), created with its defaults the first time it is read."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class AdminChange(models.Model):
    """Who changed which setting, price or rule in the admin, and from what to what. Never edited."""

    class Action(models.TextChoices):
        ADDED = "added", _("追加")
        CHANGED = "changed", _("変更")
        DELETED = "deleted", _("削除")

    at = models.DateTimeField(_("日時"), auto_now_add=True, db_index=True)
    # SET_NULL: the trail outlives a staff account; actor_label keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("担当者"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="admin_changes",
    )
    actor_label = models.CharField(_("担当者（記録時）"), max_length=254)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("種類"), on_delete=models.PROTECT, related_name="admin_changes"
    )
    object_id = models.CharField(_("対象ID"), max_length=64)
    object_label = models.CharField(_("対象"), max_length=200)
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    # {field name: {"before": value, "after": value}}, values as JSON (dates and decimals as text).
    changes = models.JSONField(_("変更内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("管理画面の変更履歴")
        verbose_name_plural = _("管理画面の変更履歴")
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="core_adminchange_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_label}"


class LoginFailure(models.Model):
    """One failed sign-in, counted per account and per client address (the throttle without Redis)."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("アカウント")
        ADDRESS = "address", _("接続元アドレス")

    scope = models.CharField(_("単位"), max_length=8, choices=Scope.choices)
    key = models.CharField(_("キー"), max_length=254)  # the lower-cased login, or the client IP
    at = models.DateTimeField(_("日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("ログイン失敗")
        verbose_name_plural = _("ログイン失敗")
        indexes = [models.Index(fields=["scope", "key", "at"], name="core_loginfailure_window")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
