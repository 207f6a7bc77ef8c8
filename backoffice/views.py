"""Staff pages beyond the model admin: the home dashboard, CSV export, the order-update upload.

Mounted under the admin's address (config/urls.py, before its catch-all) and drawn in its layout;
every link to an admin page is reversed, never written out.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.services.payments import chargeable_orders
from core.jsonq import json_list_has
from core.money import format_yen
from core.textio import EncodeReport
from customers.models import Customer
from orders.models import Order, OrderStatus, PaymentStatus
from subscriptions.models import AttentionReason, Subscription, SubscriptionStatus
from subscriptions.selectors import today_in_shop

from .exports import (
    DEFAULT_ORDER_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    customers_csv,
    orders_csv,
    subscriptions_csv,
)
from .order_updates import order_updates_import

# The daily views (保存済みの絞り込み): the order list's own filter parameters.
SAVED_FILTERS = [
    ("new", gettext_lazy("新規受付"), {"status__exact": OrderStatus.NEW}),
    ("awaiting_payment", gettext_lazy("入金待ち"), {"status__exact": OrderStatus.AWAITING_PAYMENT}),
    ("ready", gettext_lazy("出荷待ち"), {"status__exact": OrderStatus.READY}),
    ("on_hold", gettext_lazy("要対応"), {"status__exact": OrderStatus.ON_HOLD}),
]


def order_list_url(**params: object) -> str:
    return reverse("admin:orders_order_changelist") + ("?" + urlencode(params) if params else "")


def _context(request: HttpRequest, title: str, **extra: object) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@staff_member_required
def home(request: HttpRequest) -> HttpResponse:
    """Today at a glance, each figure a link to the list it counts."""
    today = today_in_shop()
    saved = Order.objects.aggregate(
        **{key: Count("id", filter=Q(**params)) for key, _l, params in SAVED_FILTERS}
    )
    created_today = dict(
        Order.objects.filter(creation_date=today)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    held = Order.objects.filter(status=OrderStatus.ON_HOLD).aggregate(
        **{
            reason: Count("id", filter=json_list_has("hold_reasons", reason))
            for reason in AttentionReason.values
        }
    )
    offline_overdue = Order.objects.filter(
        payment_status=PaymentStatus.AWAITING_OFFLINE, creation_date__lt=today
    ).exclude(status=OrderStatus.CANCELLED)
    due = Subscription.objects.filter(
        status=SubscriptionStatus.ACTIVE, next_creation_date__lte=today
    ).aggregate(due=Count("id"), attention=Count("id", filter=~Q(needs_attention=[])))
    # Tonight's charge stage takes the new unpaid orders (those left from earlier days too) plus the
    # orders generation creates tonight, not held; their amounts exist once they are priced tonight.
    to_charge = chargeable_orders(run_date=today).aggregate(count=Count("id"), amount=Sum("total"))
    to_charge["amount_text"] = format_yen(to_charge["amount"] or 0)
    to_charge["tonight_new"] = due["due"] - due["attention"]
    to_charge["url"] = order_list_url(
        status__exact=OrderStatus.NEW, payment_status__exact=PaymentStatus.UNPAID
    )
    context = _context(
        request,
        _("受注管理ホーム"),
        to_charge=to_charge,
        today=today,
        saved=[
            {"key": key, "label": label, "count": saved[key], "url": order_list_url(**params)}
            for key, label, params in SAVED_FILTERS
        ],
        created_today=[
            {
                "label": label,
                "count": created_today.get(value, 0),
                "url": order_list_url(status__exact=value, creation_date=today.isoformat()),
            }
            for value, label in OrderStatus.choices
        ],
        held=[
            {
                "label": label,
                "count": held[value],
                "url": order_list_url(status__exact=OrderStatus.ON_HOLD, hold_reason=value),
            }
            for value, label in AttentionReason.choices
        ],
        offline_overdue={
            "count": offline_overdue.count(),
            "url": order_list_url(payment_status__exact=PaymentStatus.AWAITING_OFFLINE),
        },
        due=due,
        links={
            "export": reverse("backoffice:export"),
            "updates": reverse("backoffice:order_updates"),
            "segment_mail": reverse("backoffice:segment_mail"),
            "mail_templates": reverse("admin:notifications_mailtemplate_changelist"),
            "carriers": reverse("admin:orders_carrier_changelist"),
        },
    )
    return TemplateResponse(request, "backoffice/home.html", context)


# --- CSV out ------------------------------------------------------------------------------------


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("書き出す内容"),
        choices=[
            ("orders", gettext_lazy("受注（1受注1行）")),
            ("lines", gettext_lazy("受注（1商品1行）")),
            ("subscriptions", gettext_lazy("定期購入")),
            ("customers", gettext_lazy("顧客")),
        ],
        initial="orders",
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("文字コード"),
        choices=[("cp932", "Shift_JIS (cp932)"), ("utf-8", "UTF-8")],
        initial="cp932",
    )
    columns = forms.MultipleChoiceField(
        label=gettext_lazy("受注の列"),
        choices=[(c.key, c.header) for c in ORDER_COLUMNS],
        initial=list(DEFAULT_ORDER_COLUMNS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    filters = forms.CharField(widget=forms.HiddenInput, required=False)


def _filtered_orders(request: HttpRequest, filters: str):  # noqa: ANN202
    """The order list exactly as the admin shows it for these filter parameters (its filters and search)."""
    model_admin = admin.site._registry[Order]
    listing = request.__class__.__new__(request.__class__)
    listing.__dict__ = {**request.__dict__, "GET": QueryDict(filters)}
    return model_admin.get_changelist_instance(listing).get_queryset(listing)


REPORT_KEY = "backoffice:export-reports:{user}"


def _remember(user_id: int, name: str, report: EncodeReport) -> None:
    key = REPORT_KEY.format(user=user_id)
    entry = {
        "name": name,
        "at": time.time(),
        "rows": report.rows,
        "replaced": report.replaced_cells,
        "examples": [(r.row, r.column, r.characters) for r in report.replacements[:50]],
    }
    cache.set(key, [entry, *(cache.get(key) or [])][:5], 24 * 3600)


def _after(lines, done):  # noqa: ANN001, ANN202
    yield from lines
    done()


@staff_member_required
def export(request: HttpRequest) -> HttpResponse:
    """CSV out: the form (with the order list's filters carried over), then the streamed file."""
    form = ExportForm(request.POST or None, initial={"filters": request.GET.get("filters", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind, encoding = data["kind"], data["encoding"]
        if kind in ("orders", "lines") and not request.user.has_perm("orders.view_order"):
            raise PermissionDenied
        if kind == "subscriptions" and not request.user.has_perm("subscriptions.view_subscription"):
            raise PermissionDenied
        if kind == "customers" and not request.user.has_perm("customers.view_customer"):
            raise PermissionDenied
        report = EncodeReport(encoding=encoding)
        stamp = today_in_shop().strftime("%Y%m%d")
        if kind in ("orders", "lines"):
            orders = _filtered_orders(request, data["filters"])
            columns = data["columns"] or list(DEFAULT_ORDER_COLUMNS)
            lines = orders_csv(
                orders,
                per="line" if kind == "lines" else "order",
                columns=columns,
                encoding=encoding,
                report=report,
            )
        elif kind == "subscriptions":
            lines = subscriptions_csv(Subscription.objects.all(), encoding=encoding, report=report)
        else:
            lines = customers_csv(Customer.objects.all(), encoding=encoding, report=report)
        name = f"{kind}-{stamp}-{encoding}.csv"
        user_id = request.user.pk
        response = StreamingHttpResponse(
            _after(lines, lambda: _remember(user_id, name, report)),
            content_type=f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = _context(
        request,
        _("CSV書き出し"),
        form=form,
        filters=request.GET.get("filters", ""),
        reports=cache.get(REPORT_KEY.format(user=request.user.pk)) or [],
        line_columns=LINE_COLUMNS,
    )
    return TemplateResponse(request, "backoffice/export.html", context)


# --- 一括更新 (upload → dry run → confirm) ---------------------------------------------------------


def upload_dir() -> Path:
    directory = Path(getattr(settings, "BACKOFFICE_UPLOAD_DIR", settings.VAR_DIR / "order-updates"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _forget_abandoned(older_than: float = 24 * 3600) -> None:
    """Files checked but never confirmed go after a day (they hold customers' orders)."""
    cutoff = time.time() - older_than
    for stale in upload_dir().glob("*.csv"):
        if stale.stat().st_mtime < cutoff:
            stale.unlink(missing_ok=True)


class UpdateUploadForm(forms.Form):
    encoding = forms.ChoiceField(
        label=gettext_lazy("文字コード"),
        choices=[("auto", gettext_lazy("自動判別")), ("cp932", "Shift_JIS (cp932)"), ("utf-8", "UTF-8")],
        initial="auto",
    )
    file = forms.FileField(label=gettext_lazy("CSVファイル"))


@staff_member_required
def order_updates(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("orders.change_order"):
        raise PermissionDenied
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    form = UpdateUploadForm(request.POST or None, request.FILES or None)
    context = _context(request, _("受注の一括更新（CSV取り込み）"), form=form)
    if request.method == "POST" and form.is_valid():
        _forget_abandoned()
        token = uuid.uuid4().hex
        target = upload_dir() / f"{token}.csv"
        with target.open("wb") as out:
            for chunk in form.cleaned_data["file"].chunks():
                out.write(chunk)
        with target.open("rb") as stream:
            report = order_updates_import(stream=stream, encoding=form.cleaned_data["encoding"], dry_run=True)
        context.update(
            report=report,
            token=token,
            encoding=report.encoding,
            file_name=form.cleaned_data["file"].name,
            changed_rows=[p for p in report.rows if p.changes and not p.errors],
        )
    return TemplateResponse(request, "backoffice/order_updates.html", context)


def _confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    target = upload_dir() / f"{token}.csv"
    if not (len(token) == 32 and token.isalnum()) or not target.exists():
        messages.error(
            request, _("アップロードしたファイルが見つかりません。もう一度アップロードしてください。")
        )
        return redirect(reverse("backoffice:order_updates"))
    encoding = request.POST.get("encoding", "auto")
    with target.open("rb") as stream:
        report = order_updates_import(
            stream=stream,
            encoding=encoding if encoding in ("cp932", "utf-8") else "auto",
            dry_run=False,
            actor_user=request.user,
        )
    target.unlink(missing_ok=True)
    messages.add_message(request, messages.WARNING if report.errors else messages.SUCCESS, report.summary())
    for error in report.errors[:20]:
        messages.error(request, f"{error.row}行目 {error.column}: {error.message}")
    return redirect(order_list_url(status__exact=OrderStatus.SHIPPED))
