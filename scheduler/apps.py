from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = _("受注作成バッチ")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The order-rule simulation tries draft rules on the orders the next nights would create.
        from orders.rules.simulation import forecast_source_register

        from .rules_forecast import dry_run_orders

        forecast_source_register(dry_run_orders)
