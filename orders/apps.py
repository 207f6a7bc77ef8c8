from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("受注")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.attachments import attachment_register

        from .mails import invoice_attachment

        attachment_register("invoice", invoice_attachment)
