"""セグメント配信: staff pick a segment and one of the shop's mail templates, see how many customers
it reaches (and the mail filled for the first of them), then send it through the outbox once per
customer (notifications.services.mail_campaign_send).

Each customer's mail is filled like an order mail from their newest order when they have one
(orders.mails.order_mail_context), so a template written for orders reads right; the customer's name,
the my-page link and the shop's name are always filled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from customers.models import Customer, CustomerGroup
from customers.selectors import segment_customer_ids
from notifications.models import MailCampaign, MailEvent, MailTemplate
from notifications.services import mail_campaign_send, mail_template_render
from orders.mails import order_mail_context
from orders.models import Order, OrderLine

from .views import _context

SEGMENT_CHOICES = [
    ("repeaters", gettext_lazy("リピーター（2回以上購入）")),
    ("first_time", gettext_lazy("初回購入のみ")),
    ("similar_to_blacklist", gettext_lazy("ブラックリスト類似")),
    ("group", gettext_lazy("顧客グループ")),
]
_CHUNK = 500


class SegmentMailForm(forms.Form):
    segment = forms.ChoiceField(label=gettext_lazy("セグメント"), choices=SEGMENT_CHOICES)
    group = forms.ModelChoiceField(
        label=gettext_lazy("顧客グループ"), queryset=CustomerGroup.objects.order_by("name"), required=False
    )
    event = forms.ChoiceField(label=gettext_lazy("メールテンプレート"), choices=())
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        have = set(MailTemplate.objects.values_list("event", flat=True))
        self.fields["event"].choices = [(v, label) for v, label in MailEvent.choices if v in have]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("segment") == "group" and not cleaned.get("group"):
            self.add_error("group", _("顧客グループを選んでください。"))
        return cleaned

    def segment_label(self) -> str:
        data = self.cleaned_data
        label = str(dict(SEGMENT_CHOICES)[data["segment"]])
        return f"{label}: {data['group'].name}" if data["segment"] == "group" else label


def _customer_context(customer: Customer, newest: Order | None, language: str) -> dict[str, Any]:
    if newest is not None:
        return order_mail_context(newest, language=language)
    return {
        "customer_name": customer.name,
        "mypage_url": settings.SITE_URL.rstrip("/") + reverse("mypage:home"),
        "shop_name": settings.INVOICE_ISSUER_NAME,
    }


def recipients(customer_ids: list[int]) -> Iterator[tuple[Customer, str, str, dict[str, Any]]]:
    """(customer, email, language, placeholders) per customer, read _CHUNK customers at a time."""
    for start in range(0, len(customer_ids), _CHUNK):
        ids = customer_ids[start : start + _CHUNK]
        customers = Customer.objects.filter(id__in=ids).select_related("user").order_by("id")
        newest_ids = (
            Order.objects.filter(customer_id__in=ids).values("customer_id").annotate(newest=Max("id"))
        )
        newest = {
            o.customer_id: o
            for o in Order.objects.filter(id__in=[row["newest"] for row in newest_ids])
            .select_related("customer__user", "carrier")
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        }
        for customer in customers:
            language = customer.language if customer.language in dict(settings.LANGUAGES) else "ja"
            context = _customer_context(customer, newest.get(customer.id), language)
            yield customer, customer.user.email, language, context


@staff_member_required
def segment_mail(request: HttpRequest) -> HttpResponse:
    """Preview (count and the first customer's mail), then send with the preview's token."""
    if not request.user.has_perm("notifications.add_mailcampaign"):
        raise PermissionDenied
    form = SegmentMailForm(request.POST or None)
    context = _context(request, _("セグメント配信"), form=form, campaigns=MailCampaign.objects.all()[:10])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        group_id = data["group"].pk if data["group"] else None
        ids = segment_customer_ids(segment=data["segment"], group_id=group_id)
        if "send" in request.POST and data["token"]:
            try:
                campaign = mail_campaign_send(
                    token=data["token"],
                    segment=data["segment"],
                    segment_label=form.segment_label(),
                    event=data["event"],
                    recipients=recipients(ids),
                    actor_user=request.user,
                )
            except DomainError as error:
                form.add_error("event", error.message)
                return TemplateResponse(request, "backoffice/segment_mail.html", context)
            messages.success(
                request,
                _("「%(label)s」に%(n)d通のメールを送信しました。")
                % {"label": campaign.segment_label, "n": campaign.recipients},
            )
            return redirect(reverse("backoffice:segment_mail"))
        sample = None
        if ids:
            customer, email, language, fill = next(recipients(ids[:1]))
            template = MailTemplate.objects.filter(event=data["event"], language=language).first()
            template = template or MailTemplate.objects.filter(event=data["event"], language="ja").first()
            if template is not None:
                subject, body = mail_template_render(template=template, context=fill)
                sample = {"to": email, "subject": subject, "body": body}
        form.data = form.data.copy()
        form.data["token"] = uuid.uuid4().hex
        context.update(preview={"count": len(ids), "label": form.segment_label(), "sample": sample})
    return TemplateResponse(request, "backoffice/segment_mail.html", context)
