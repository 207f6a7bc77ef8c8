"""Every signed-up user gets a customer profile, so the my page works right after verification."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from .services import customer_create_for_user


@receiver(user_signed_up, dispatch_uid="mypage_customer_on_signup")
def create_customer_on_signup(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    customer_create_for_user(user=user)
