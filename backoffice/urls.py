from django.urls import path

from . import segment_mail, views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("export/", views.export, name="export"),
    path("order-updates/", views.order_updates, name="order_updates"),
    path("segment-mail/", segment_mail.segment_mail, name="segment_mail"),
]
