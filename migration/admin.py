"""Admin: the imported-subscription register and the upload page (upload → dry-run report → confirm)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.textio import ENCODINGS
from subscriptions.actors import Actor

from .formats import FORMATS
from .importer import subscriptions_import
from .models import ImportedRecord, SourceFormat

ENCODING_CHOICES = [("auto", gettext_lazy("自動判別")), ("utf-8", "UTF-8"), ("cp932", "Shift_JIS (cp932)")]


def upload_dir() -> Path:
    """Uploaded files wait here between the dry run and the confirmation."""
    directory = Path(getattr(settings, "MIGRATION_UPLOAD_DIR", settings.VAR_DIR / "imports"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def forget_abandoned_uploads(*, older_than: float = 24 * 3600) -> None:
    """Uploads checked but never confirmed are removed after a day (they may hold personal data)."""
    cutoff = time.time() - older_than
    for stale in upload_dir().glob("*.csv"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)


class UploadForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("形式"), choices=SourceFormat.choices)
    encoding = forms.ChoiceField(label=gettext_lazy("文字コード"), choices=ENCODING_CHOICES, initial="auto")
    file = forms.FileField(label=gettext_lazy("CSVファイル"))


class ConfirmForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    format = forms.ChoiceField(choices=SourceFormat.choices, widget=forms.HiddenInput)
    encoding = forms.ChoiceField(choices=[(e, e) for e in ENCODINGS], widget=forms.HiddenInput)


@admin.register(ImportedRecord)
class ImportedRecordAdmin(admin.ModelAdmin):
    list_display = ("handle", "source", "subscription", "imported_at", "updated_at")
    list_filter = ("source",)
    search_fields = ("handle",)
    raw_id_fields = ("subscription",)
    readonly_fields = ("source", "handle", "subscription", "body_hash", "imported_at", "updated_at")
    change_list_template = "admin/migration/importedrecord/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self):  # noqa: ANN201
        view = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", view, name="migration_importedrecord_upload"), *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("subscriptions.add_subscription"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("定期購入の取り込み"),
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            forget_abandoned_uploads()
            token = uuid.uuid4()
            target = upload_dir() / f"{token.hex}.csv"
            with target.open("wb") as out:
                for chunk in form.cleaned_data["file"].chunks():
                    out.write(chunk)
            with target.open("rb") as stream:
                report = subscriptions_import(
                    stream=stream,
                    format=form.cleaned_data["format"],
                    encoding=form.cleaned_data["encoding"],
                    dry_run=True,
                )
            context.update(
                report=report,
                confirm=ConfirmForm(
                    initial={
                        "token": token,
                        "format": form.cleaned_data["format"],
                        "encoding": report.encoding,
                    }
                ),
                can_import=report.created + report.updated > 0,
                file_name=form.cleaned_data["file"].name,
            )
        context["form"] = form
        context["formats"] = FORMATS
        return TemplateResponse(request, "admin/migration/upload.html", context)

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("取り込むファイルがわかりません。もう一度アップロードしてください。"))
            return redirect(reverse("admin:migration_importedrecord_upload"))
        target = upload_dir() / f"{form.cleaned_data['token'].hex}.csv"
        if not target.exists():
            messages.error(
                request, _("アップロードしたファイルが見つかりません。もう一度アップロードしてください。")
            )
            return redirect(reverse("admin:migration_importedrecord_upload"))
        with target.open("rb") as stream:
            report = subscriptions_import(
                stream=stream,
                format=form.cleaned_data["format"],
                encoding=form.cleaned_data["encoding"],
                dry_run=False,
                actor=Actor.admin(request.user),
            )
        target.unlink(missing_ok=True)
        level = messages.WARNING if report.errors else messages.SUCCESS
        messages.add_message(request, level, report.summary())
        return redirect(reverse("admin:migration_importedrecord_changelist"))
