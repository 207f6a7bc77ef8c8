"""allauth's account adapter with the database-backed sign-in throttle (core.login_throttle)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from .login_throttle import login_failure_record, login_failures_clear, login_throttle_blocked


def _account(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        super().pre_authenticate(request, **credentials)  # allauth's cache limit (fails open)
        if login_throttle_blocked(account=_account(credentials), address=self.get_client_ip(request)):
            raise self.validation_error("too_many_login_attempts")

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_failures_clear(account=_account(credentials))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        login_failure_record(account=_account(credentials), address=self.get_client_ip(request))
