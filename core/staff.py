"""Staff accounts: the admin wants a second factor (allauth MFA: TOTP, recovery codes).

A staff member without one is sent to set it up; with one, the admin opens only once it has been
passed in this session (allauth records the "mfa" step in the session when the code is entered at
login or on re-authentication). Everything under settings.ADMIN_URL_PATH (the admin, and the staff
pages mounted below it) goes through the same check in StaffSecondFactorMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.permissions import BasePermission


def second_factor_passed(request: HttpRequest) -> bool:
    """True once this session's user entered a TOTP or recovery code (no query: the session says)."""
    return any(r.get("method") == "mfa" for r in get_authentication_records(request, request.user))


def second_factor_enrolled(user: object) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=(Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES)
    ).exists()


def staff_next_step(request: HttpRequest, next_url: str) -> HttpResponse | None:
    """Where a staff request goes before the admin: sign in, set up TOTP, or pass it; None when done."""
    query = urlencode({"next": next_url})
    user = request.user
    if not user.is_authenticated:
        return HttpResponseRedirect(f"{reverse('account_login')}?{query}")
    if not user.is_staff or second_factor_passed(request):
        return None
    if not second_factor_enrolled(user):
        return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")
    return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")


class StaffAdminSite(AdminSite):
    site_header = "定期購入 管理画面"
    site_title = "定期購入"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and second_factor_passed(request)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The admin signs in through allauth (password, then the second factor), never its own form."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        step = staff_next_step(request, next_url)
        if step is not None:
            return step
        if self.has_permission(request):
            return HttpResponseRedirect(next_url)
        return super().login(request, extra_context)  # signed in but not staff: Django's refusal page


class StaffSecondFactorMiddleware:
    """Staff pages under the admin path (insights, back office) want the second factor too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        prefix = "/" + settings.ADMIN_URL_PATH
        user = getattr(request, "user", None)
        if (
            request.path.startswith(prefix)
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path not in (reverse("admin:login"), reverse("admin:logout"))
            and not second_factor_passed(request)
        ):
            step = staff_next_step(request, request.get_full_path())
            if step is not None:
                return step
        return self.get_response(request)


class IsStaffWithSecondFactor(BasePermission):
    """DRF: the staff API asks what the staff pages ask, a staff user who passed the second factor
    in this session (a stolen password alone reads no forecast)."""

    message = "staff sign-in with a second factor is required"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and second_factor_passed(request))
