from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("決済")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Inside ready(): receivers import models, which Django allows only once the apps are loaded.
        from notifications.rendering import mail_renderer_register

        from . import signals  # noqa: F401 - connects the card-update hook once models are loaded (app loading forces it here)
        from .bulk import INSTRUCTIONS, offline_instructions_render

        mail_renderer_register(INSTRUCTIONS, offline_instructions_render)
