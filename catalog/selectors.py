"""Reads about the catalogue that several callers need (my page, its API, storefront)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import CourseCycle, Product


def course_cycle_list(*, course_id: int) -> list[CourseCycle]:
    """The cycles a course offers, in the model's order (position)."""
    return list(CourseCycle.objects.filter(course_id=course_id))


def addon_offered() -> Q:
    """Which products a customer may add to the next delivery (ついで買い): flagged by the shop as
    available for add-on, on sale, not a pre-order (its release date would hold the whole delivery)
    and not sold out (untracked stock, or some left). The one home of the rule: the my page lists
    these, the service refuses the rest."""
    return Q(addon_available=True, is_active=True, is_preorder=False) & (
        Q(stock__isnull=True) | Q(stock__gt=0)
    )


def addon_products() -> QuerySet[Product]:
    """The products offered for add-on, by name."""
    return Product.objects.filter(addon_offered()).order_by("name", "id")
