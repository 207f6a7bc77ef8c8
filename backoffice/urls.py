from django.urls import path

from . import segment_mail, views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("export/", views.export, name="export"),
    path("order-updates/", views.order_updates, name="order_updates"),
    path("segment-mail/", segment_mail.segment_mail, name="segment_mail"),
]

# The order-rule editor and simulation, the pre-order list (backoffice/rules_views.py).
from . import rules_views  # noqa: E402

urlpatterns += [
    path("rules/", rules_views.rules, name="rules"),
    path("rules/new/", rules_views.rule_edit, name="rule_add"),
    path("rules/<int:rule_id>/", rules_views.rule_edit, name="rule_edit"),
    path("preorders/", rules_views.preorders, name="preorders"),
]
