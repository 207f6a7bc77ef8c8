"""Stock, taken and given back: one function each, for one order (admin, my page) and for a whole
nightly batch alike.

Tracked products only (stock NULL means not tracked). Rows are locked in id order, the order every
caller locks them in, so two takers wait for each other instead of deadlocking; FOR NO KEY UPDATE, so
other transactions' order lines referencing the products (FOR KEY SHARE) do not wait on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import Case, F, IntegerField, Value, When

from .models import Product


class StockShort(Exception):  # noqa: N818 - a condition the caller handles, not an error to report
    """Some products have less stock than asked for; nothing was taken."""

    def __init__(self, product_ids: list[int]) -> None:
        super().__init__(product_ids)
        self.product_ids = product_ids


def stock_levels(*, product_ids: Iterable[int]) -> dict[int, int]:
    """Tracked products' stock ({product id: stock}), read without a lock: what a batch plans with
    before stock_take checks the counts again under the lock."""
    product_ids = set(product_ids)
    if not product_ids:
        return {}
    return dict(Product.objects.filter(id__in=product_ids, stock__isnull=False).values_list("id", "stock"))


def stock_short_of(stock: Mapping[int, int | None], quantities: Iterable[tuple[int, int]]) -> list[int]:
    """The products of `quantities` ((product id, quantity) pairs) whose stock is below the quantity.

    `stock` holds the tracked products; one absent or None is not tracked and never short.
    """
    short = []
    for pid, qty in quantities:
        level = stock.get(pid)
        if level is not None and level < qty:
            short.append(pid)
    return short


def _locked_stock(product_ids: Mapping[int, int]) -> list[tuple[int, int | None]]:
    locked = Product.objects.filter(id__in=product_ids).order_by("id").select_for_update(no_key=True)
    return list(locked.values_list("id", "stock"))


def _add(quantities: Mapping[int, int], sign: int) -> None:
    whens = [When(id=pid, then=Value(sign * qty)) for pid, qty in quantities.items()]
    Product.objects.filter(id__in=quantities, stock__isnull=False).update(
        stock=F("stock") + Case(*whens, default=Value(0), output_field=IntegerField())
    )


def stock_take(*, quantities: Mapping[int, int]) -> None:
    """Take `quantities` ({product id: quantity}) in one UPDATE, or raise StockShort and take none.

    Call inside the transaction that creates the orders the stock is for, as late as it can: the
    product rows stay locked until it commits.
    """
    if not quantities:
        return
    short = stock_short_of(dict(_locked_stock(quantities)), quantities.items())
    if short:
        raise StockShort(short)
    _add(quantities, -1)


def stock_give_back(*, quantities: Mapping[int, int]) -> None:
    """Put `quantities` back (an order cancelled), in one UPDATE after locking in id order."""
    if not quantities:
        return
    _locked_stock(quantities)
    _add(quantities, 1)
