"""Document downloads; included at the site root by config/urls.py (before the admin catch-all).
The staff PDFs live under the admin path (ADMIN_URL), so they move with it and want its second factor."""

from django.conf import settings
from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path(
        "mypage/orders/<int:order_id>/invoice.pdf",
        views.customer_document,
        {"kind": "invoice"},
        name="customer-invoice",
    ),
    path(
        "mypage/orders/<int:order_id>/slip.pdf",
        views.customer_document,
        {"kind": "slip"},
        name="customer-slip",
    ),
    path(
        f"{settings.ADMIN_URL_PATH}orders/order/<int:order_id>/invoice.pdf",
        views.admin_document,
        {"kind": "invoice"},
        name="admin-invoice",
    ),
    path(
        f"{settings.ADMIN_URL_PATH}orders/order/<int:order_id>/slip.pdf",
        views.admin_document,
        {"kind": "slip"},
        name="admin-slip",
    ),
]
