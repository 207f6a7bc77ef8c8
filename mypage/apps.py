from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MypageConfig(AppConfig):
    name = "mypage"
    verbose_name = _("マイページ")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Inside ready(): receivers import models, which Django allows only once the apps are loaded.
        from . import language, signals  # noqa: F401 - connects the sign-up and sign-in receivers once models are loaded (app loading forces it here)
