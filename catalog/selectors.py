"""Reads about the catalogue that several callers need (my page, its API, storefront)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from . import packaging
from .models import CourseCycle, Product
from .packaging import Misfit


def course_cycle_list(*, course_id: int) -> list[CourseCycle]:
    """The cycles a course offers, in the model's order (position)."""
    return list(CourseCycle.objects.filter(course_id=course_id))


# The reasons, translated when shown (one message per misfit, not the whole table each time).
_MISFIT_TEXTS = {
    packaging.UNMEASURED: gettext_lazy("サイズ・重さが登録されていない商品が含まれています"),
    packaging.TOO_LONG: gettext_lazy("商品の長さ %(actual)smm が上限の %(limit)smm を超えています"),
    packaging.TOO_WIDE: gettext_lazy("商品の幅 %(actual)smm が上限の %(limit)smm を超えています"),
    packaging.TOO_THICK: gettext_lazy("商品の厚さの合計 %(actual)smm が上限の %(limit)smm を超えています"),
    packaging.TOO_HEAVY: gettext_lazy("商品の重さの合計 %(actual)sg が上限の %(limit)sg を超えています"),
    packaging.NO_TIME_SLOT: gettext_lazy("お届け時間帯の指定があります（この配送方法では指定できません）"),
    packaging.NO_COD: gettext_lazy("お支払いが代金引換です（この配送方法では代引きをご利用いただけません）"),
}


def misfit_text(misfit: Misfit) -> str:
    """Why an order does not fit a delivery method (catalog.packaging), in the customer's words."""
    text = _MISFIT_TEXTS.get(misfit.code)
    if text is None:
        return misfit.code
    return str(text) % {"actual": misfit.actual, "limit": misfit.limit}


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
