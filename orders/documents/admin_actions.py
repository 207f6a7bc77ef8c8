"""Admin actions for the order changelist: selected orders' invoices or slips as one PDF.

OrderAdmin adds them with `actions = [invoices_pdf, slips_pdf]` (orders/admin.py).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponse

from .render import DocumentKind, documents_render, orders_for_documents


def _download(queryset, kind: str, filename: str) -> HttpResponse:  # noqa: ANN001
    orders = orders_for_documents().filter(pk__in=queryset.values("pk")).order_by("pk")
    response = HttpResponse(documents_render(orders=orders, kind=kind), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.action(description="請求書PDF", permissions=["view"])
def invoices_pdf(modeladmin, request, queryset):  # noqa: ANN001, ANN201
    return _download(queryset, DocumentKind.INVOICE, "invoices.pdf")


@admin.action(description="納品書PDF", permissions=["view"])
def slips_pdf(modeladmin, request, queryset):  # noqa: ANN001, ANN201
    return _download(queryset, DocumentKind.SLIP, "slips.pdf")
