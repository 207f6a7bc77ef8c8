"""The customer's language: the language switch and signing in record it on the customer, so the
emails the shop sends later (reminders, payment notices) are in the language they read the shop in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from customers.services import customer_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (same form and cookie), then the signed-in customer's language."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if getattr(request.user, "is_authenticated", False) and translation.check_for_language(language):
        customer_set_language(user_id=request.user.pk, language=language)
    return response


@receiver(user_logged_in, dispatch_uid="mypage_language_on_login")
def record_language_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Signing in records the language the page was shown in (the switch's cookie or the browser's)."""
    language = getattr(request, "LANGUAGE_CODE", None) if request is not None else None
    if language:
        customer_set_language(user_id=user.pk, language=language)
