from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = _("価格・クーポン・ポイント")
    default_auto_field = "django.db.models.BigAutoField"
