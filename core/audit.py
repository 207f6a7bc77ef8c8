"""The admin's audit trail: every save or delete through an audited admin writes an AdminChange."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from .models import AdminChange


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def field_values(obj: models.Model) -> dict[str, Any]:
    """The concrete, editable fields of a row as JSON values (foreign keys by id)."""
    return {
        f.attname: _jsonable(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.editable and not f.primary_key
    }


def stored_values(obj: models.Model) -> dict[str, Any]:
    """The row as the database has it now (before this save); empty for a new row."""
    if obj.pk is None:
        return {}
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    return field_values(stored) if stored is not None else {}


def admin_change_record(
    *, request: HttpRequest, obj: models.Model, action: str, before: dict[str, Any], after: dict[str, Any]
) -> AdminChange | None:
    """One trail row with the fields whose value differs; nothing when a save changed nothing."""
    changes = {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
    if action == AdminChange.Action.CHANGED and not changes:
        return None
    user = request.user if request.user.is_authenticated else None
    return AdminChange.objects.create(
        actor=user,
        actor_label=(user.get_username() if user else "")[:254],
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_label=str(obj)[:200],
        action=action,
        changes=changes,
    )


class AuditedAdminMixin:
    """For a ModelAdmin whose rows are settings, prices or rules: saves, deletes and inline rows
    edited on its page are written to the trail with before → after values."""

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        before = stored_values(obj) if change else {}
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        action = AdminChange.Action.CHANGED if change else AdminChange.Action.ADDED
        admin_change_record(request=request, obj=obj, action=action, before=before, after=field_values(obj))

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        before, label_obj = field_values(obj), obj
        pk = obj.pk
        super().delete_model(request, obj)  # type: ignore[misc]
        label_obj.pk = pk
        admin_change_record(
            request=request, obj=label_obj, action=AdminChange.Action.DELETED, before=before, after={}
        )

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        rows = [(obj, field_values(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        for obj, before in rows:
            admin_change_record(
                request=request, obj=obj, action=AdminChange.Action.DELETED, before=before, after={}
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows (a course's prices and cycles, the shop's special days) are audited too."""
        befores = {
            f.instance.pk: stored_values(f.instance)
            for f in formset.forms
            if f.instance.pk is not None and f.has_changed()
        }
        deleted = [(f.instance, field_values(f.instance)) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for obj in formset.new_objects:
            admin_change_record(
                request=request, obj=obj, action=AdminChange.Action.ADDED, before={}, after=field_values(obj)
            )
        for obj, _fields in formset.changed_objects:
            admin_change_record(
                request=request,
                obj=obj,
                action=AdminChange.Action.CHANGED,
                before=befores.get(obj.pk, {}),
                after=field_values(obj),
            )
        for obj, before in deleted:
            admin_change_record(
                request=request, obj=obj, action=AdminChange.Action.DELETED, before=before, after={}
            )
