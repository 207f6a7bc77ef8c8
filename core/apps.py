from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default = True
    name = "core"
    verbose_name = _("共通")


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with a site that wants the staff member's second factor (core.staff)."""

    default = False
    default_site = "core.staff.StaffAdminSite"
