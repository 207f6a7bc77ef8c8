"""Every signed-up user gets a customer profile, so the my page works right after verification; a
change to the shop policy or its special days reaches the my page's cached copy at once."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from subscriptions.models import ShopPolicy, SpecialDay

from .selectors import policy_forget
from .services import customer_create_for_user


@receiver(user_signed_up, dispatch_uid="mypage_customer_on_signup")
def create_customer_on_signup(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    customer_create_for_user(user=user)


@receiver(post_save, sender=ShopPolicy, dispatch_uid="mypage_policy_saved")
@receiver(post_delete, sender=ShopPolicy, dispatch_uid="mypage_policy_deleted")
@receiver(post_save, sender=SpecialDay, dispatch_uid="mypage_special_day_saved")
@receiver(post_delete, sender=SpecialDay, dispatch_uid="mypage_special_day_deleted")
def forget_cached_policy(sender: Any, **kwargs: Any) -> None:
    policy_forget()
