"""Document downloads; included at the site root by config/urls.py (before the admin catch-all)."""

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
        "admin/orders/order/<int:order_id>/invoice.pdf",
        views.admin_document,
        {"kind": "invoice"},
        name="admin-invoice",
    ),
    path(
        "admin/orders/order/<int:order_id>/slip.pdf",
        views.admin_document,
        {"kind": "slip"},
        name="admin-slip",
    ),
]
