"""Admin for the shop's mail templates: edit subject and body, see them filled with a real order.

The model lives in notifications (the outbox's home); its admin is here because the preview needs an
order, and notifications sits below orders.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.mail_templates import PLACEHOLDERS, unknown_placeholders
from notifications.models import MailTemplate
from notifications.services import mail_template_render
from orders.mails import order_mail_context
from orders.models import Order


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ("event", "language", "enabled", "subject", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "cols": 90})}

    def clean(self) -> dict:
        cleaned = super().clean()
        for field in ("subject", "body"):
            unknown = unknown_placeholders(cleaned.get(field) or "")
            if unknown:
                self.add_error(
                    field,
                    _("使えない差し込み項目があります: %(names)s")
                    % {"names": "、".join("{" + name + "}" for name in unknown)},
                )
        return cleaned


@admin.register(MailTemplate)
class MailTemplateAdmin(admin.ModelAdmin):
    form = MailTemplateForm
    list_display = ("event", "language", "enabled", "subject", "updated_at")
    list_filter = ("event", "language", "enabled")
    list_editable = ("enabled",)
    search_fields = ("subject", "body")
    readonly_fields = ("placeholders",)
    fieldsets = (
        (None, {"fields": ("event", "language", "enabled", "subject", "body")}),
        (gettext_lazy("差し込み項目"), {"fields": ("placeholders",)}),
    )

    change_form_template = "admin/notifications/mailtemplate/change_form.html"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):  # noqa: ANN001, ANN201
        template = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if template is not None:
            extra["mail_preview"] = mail_preview(template, request.GET.get("preview_order", ""))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @admin.display(description=gettext_lazy("使える差し込み項目"))
    def placeholders(self, obj: MailTemplate | None) -> str:
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td><code>{{{}}}</code></td><td>{}</td></tr>", PLACEHOLDERS.items()),
        )


def mail_preview(template: MailTemplate, order_id: str) -> dict | None:
    """The template filled with an order (the one asked for, else the newest): subject, body, number."""
    orders = Order.objects.select_related("customer__user", "carrier").prefetch_related("lines")
    order = orders.filter(pk=int(order_id)).first() if order_id.isdigit() else orders.order_by("-id").first()
    if order is None:
        return None
    subject, body = mail_template_render(
        template=template, context=order_mail_context(order, language=template.language)
    )
    return {"order": order, "subject": subject, "body": body}
