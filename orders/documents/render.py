"""PDF layout with reportlab and a built-in Japanese CID font (no system font needed; the text
stays extractable, which the tests check with pdftotext)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db.models import Prefetch, TextChoices
from django.utils.translation import gettext_lazy as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from core.errors import DomainError
from core.tax import is_valid_registration_number
from orders.models import Order, OrderLine
from subscriptions.selectors import today_in_shop

from .content import Document, Issuer, delivery_slip, invoice

FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
WIDTH, HEIGHT = A4
MARGIN = 18 * mm
# Column right edges for amounts; the name column takes what is left.
NUMERIC_COLUMNS = 4


class DocumentKind(TextChoices):
    INVOICE = "invoice", _("適格請求書")
    SLIP = "slip", _("納品書")


def invoice_issuer() -> Issuer:
    """The issuer from settings; a malformed registration number is refused rather than printed."""
    number = settings.INVOICE_REGISTRATION_NUMBER
    if not is_valid_registration_number(number):
        raise DomainError(
            "invalid_registration_number",
            f"INVOICE_REGISTRATION_NUMBER は T と13桁の数字で設定してください（現在: {number!r}）。",
        )
    return Issuer(settings.INVOICE_ISSUER_NAME, number, getattr(settings, "INVOICE_ISSUER_ADDRESS", ""))


def _document(order: Order, kind: str, issuer: Issuer, issued_on: date) -> Document:
    lines = list(order.lines.all())
    if kind == DocumentKind.INVOICE:
        return invoice(order, lines, issuer=issuer, issued_on=issued_on)
    if kind == DocumentKind.SLIP:
        return delivery_slip(order, lines, issuer=issuer)
    raise DomainError("invalid_document_kind", f"unknown document kind {kind!r}")


def _columns(count: int) -> list[float]:
    """x of each column: the first (left-aligned name) then right edges of the others."""
    right = WIDTH - MARGIN
    widths = [22 * mm, 30 * mm, 16 * mm, 32 * mm][-(count - 1) :] if count > 1 else []
    edges = []
    for w in reversed(widths):
        edges.insert(0, right)
        right -= w
    return [MARGIN, *edges]


def _draw(canvas: Canvas, doc: Document) -> None:
    def text(x: float, y: float, value: str, size: float = 9, right: bool = False) -> None:
        canvas.setFont(FONT, size)
        (canvas.drawRightString if right else canvas.drawString)(x, y, value)

    y = HEIGHT - MARGIN
    text(WIDTH / 2 - len(doc.title) * 8, y - 6 * mm, doc.title, 18)
    y -= 16 * mm
    top = y
    for line in doc.to_lines:
        text(MARGIN, y, line, 11)
        y -= 6 * mm
    y2 = top
    for line in [*doc.number_lines, "", *[x for x in doc.from_lines if x]]:
        text(WIDTH - MARGIN, y2, line, 9, right=True)
        y2 -= 5 * mm
    y = min(y, y2) - 6 * mm

    xs = _columns(len(doc.headers))

    def header(y: float) -> float:
        canvas.line(MARGIN, y + 4 * mm, WIDTH - MARGIN, y + 4 * mm)
        for i, label in enumerate(doc.headers):
            text(xs[i], y, label, 9, right=i > 0)
        canvas.line(MARGIN, y - 2 * mm, WIDTH - MARGIN, y - 2 * mm)
        return y - 7 * mm

    y = header(y)
    for row in doc.rows:
        if y < MARGIN + 40 * mm:
            canvas.showPage()
            y = header(HEIGHT - MARGIN - 10 * mm)
        for i, value in enumerate(row):
            text(xs[i], y, value, 9, right=i > 0)
        y -= 6 * mm
    canvas.line(MARGIN, y + 3 * mm, WIDTH - MARGIN, y + 3 * mm)
    y -= 3 * mm
    for label, value in doc.totals:
        if y < MARGIN + 10 * mm:
            canvas.showPage()
            y = HEIGHT - MARGIN - 10 * mm
        text(WIDTH - MARGIN - 75 * mm, y, label, 9)
        text(WIDTH - MARGIN, y, value, 9, right=True)
        y -= 5.5 * mm
    y -= 4 * mm
    for note in doc.notes:
        text(MARGIN, y, note, 8)
        y -= 5 * mm
    canvas.showPage()


def documents_render(*, orders: Iterable[Order], kind: str, issued_on: date | None = None) -> bytes:
    """One PDF holding each order's document, in the given order, each starting on a new page."""
    issuer = invoice_issuer()
    issued_on = issued_on or today_in_shop()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(str(DocumentKind(kind).label))
    for order in orders:
        _draw(canvas, _document(order, kind, issuer, issued_on))
    canvas.save()
    return buffer.getvalue()


def document_render(*, order: Order, kind: str, issued_on: date | None = None) -> bytes:
    """One order's invoice or delivery slip as PDF bytes."""
    return documents_render(orders=[order], kind=kind, issued_on=issued_on)


def orders_for_documents():  # noqa: ANN201
    """Orders with what the documents print, loaded in three queries whatever the count."""
    return Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
