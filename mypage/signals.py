"""Every signed-up user gets a customer profile, so the my page works right after verification; a
change to the shop policy or its special days, or to prices, fees and discounts, reaches the my
page's cached copies at once."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_signed_up
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import (
    BulkDiscount,
    CourseCycle,
    CoursePrice,
    DeliveryMethod,
    GroupPrice,
    Product,
    ProductSalePrice,
    QuantityTier,
)
from pricing.models import BillingPolicy, CodFee, PrefectureShippingFee
from subscriptions.models import ShopPolicy, SpecialDay

from .selectors import course_cycles_forget, policy_forget, pricing_forget
from .services import customer_create_for_user

# What billing's PricingCatalog reads (mypage.selectors.pricing_catalog keeps it per process).
PRICING_MODELS = (
    BillingPolicy,
    PrefectureShippingFee,
    CodFee,
    Product,
    ProductSalePrice,
    QuantityTier,
    GroupPrice,
    CoursePrice,
    BulkDiscount,
    DeliveryMethod,
)


@receiver(user_signed_up, dispatch_uid="mypage_customer_on_signup")
def create_customer_on_signup(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    customer_create_for_user(user=user)


@receiver(post_save, sender=ShopPolicy, dispatch_uid="mypage_policy_saved")
@receiver(post_delete, sender=ShopPolicy, dispatch_uid="mypage_policy_deleted")
@receiver(post_save, sender=SpecialDay, dispatch_uid="mypage_special_day_saved")
@receiver(post_delete, sender=SpecialDay, dispatch_uid="mypage_special_day_deleted")
def forget_cached_policy(sender: Any, **kwargs: Any) -> None:
    policy_forget()
    # Again once committed: a process that reloaded between the save and the commit read the old
    # rows under the new version.
    transaction.on_commit(policy_forget)


@receiver(post_save, sender=CourseCycle, dispatch_uid="mypage_course_cycle_saved")
@receiver(post_delete, sender=CourseCycle, dispatch_uid="mypage_course_cycle_deleted")
def forget_cached_course_cycles(sender: Any, **kwargs: Any) -> None:
    course_cycles_forget()
    transaction.on_commit(course_cycles_forget)  # as above


def forget_cached_pricing(sender: Any, **kwargs: Any) -> None:
    pricing_forget()
    transaction.on_commit(pricing_forget)  # as above


for _model in PRICING_MODELS:
    post_save.connect(
        forget_cached_pricing, sender=_model, dispatch_uid=f"mypage_pricing_saved_{_model.__name__}"
    )
    post_delete.connect(
        forget_cached_pricing, sender=_model, dispatch_uid=f"mypage_pricing_deleted_{_model.__name__}"
    )
