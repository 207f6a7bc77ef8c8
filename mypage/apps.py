from django.apps import AppConfig


class MypageConfig(AppConfig):
    name = "mypage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Inside ready(): receivers import models, which Django allows only once the apps are loaded.
        from . import signals  # noqa: F401 - connects the sign-up receiver
