from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("受注")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.attachments import attachment_register
        from notifications.rendering import mail_renderer_register

        from .mails import ORDER_MAIL_KIND, invoice_attachment, order_mails_render

        attachment_register("invoice", invoice_attachment)
        mail_renderer_register(ORDER_MAIL_KIND, order_mails_render)
