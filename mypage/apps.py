from django.apps import AppConfig


class MypageConfig(AppConfig):
    name = "mypage"
    default_auto_field = "django.db.models.BigAutoField"
