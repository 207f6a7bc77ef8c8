from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("運用監視")

    def ready(self) -> None:
        from . import metrics  # models are loaded only now: Django's app loading forces this import here

        metrics.register()
