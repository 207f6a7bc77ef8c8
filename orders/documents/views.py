"""Download views: customers get their own orders' documents, staff any order's."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from .render import DocumentKind, document_render, orders_for_documents

FILENAMES = {DocumentKind.INVOICE: "invoice", DocumentKind.SLIP: "slip"}


def _pdf(order, kind: str) -> HttpResponse:  # noqa: ANN001
    response = HttpResponse(document_render(order=order, kind=kind), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{FILENAMES[kind]}-{order.number}.pdf"'
    return response


@login_required
def customer_document(request: HttpRequest, order_id: int, kind: str) -> HttpResponse:
    """/mypage/orders/<id>/invoice.pdf and /slip.pdf. Another customer's order is "not found"."""
    order = orders_for_documents().filter(pk=order_id, customer__user=request.user).first()
    if order is None:
        raise Http404
    return _pdf(order, kind)


@staff_member_required
def admin_document(request: HttpRequest, order_id: int, kind: str) -> HttpResponse:
    if not request.user.has_perm("orders.view_order"):
        raise Http404
    order = orders_for_documents().filter(pk=order_id).first()
    if order is None:
        raise Http404
    return _pdf(order, kind)
