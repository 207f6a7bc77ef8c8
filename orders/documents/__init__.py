"""Per-order documents as PDF: the qualified invoice (適格請求書) and the delivery slip (納品書).

`document_render(order=…, kind=…)` gives one order's PDF; `documents_render(orders=…, kind=…)` one
PDF with a page (or more) per order for bulk printing before shipping.
"""

from .render import DocumentKind, document_render, documents_render, invoice_issuer

__all__ = ["DocumentKind", "document_render", "documents_render", "invoice_issuer"]
