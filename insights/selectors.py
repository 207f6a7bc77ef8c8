"""Reads built on the forecast: the stock outlook per SKU and the purchase list per supplier."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from catalog.models import Product

from .forecast import Forecast
from .metrics import Reorder, StockDay, reorder, stock_out_date, stock_projection
from .models import IncomingStock, ProductSupply, Supplier


@dataclass(slots=True)
class StockRow:
    product_id: int
    sku: str
    name: str
    stock: int
    incoming: int  # arriving within the horizon
    demand: int  # forecast units over the horizon
    projection: list[StockDay]
    runs_out: date | None
    supply: ProductSupply | None
    reorder: Reorder | None

    @property
    def days_left(self) -> int | None:
        return None if self.runs_out is None else (self.runs_out - self.projection[0].day).days


def stock_outlook(forecast: Forecast) -> list[StockRow]:
    """Every tracked product (stock is counted): its projected stock night by night over the forecast."""
    days = (forecast.end - forecast.start).days + 1
    demand: dict[int, dict[date, int]] = defaultdict(dict)
    for night, totals in forecast.nights.items():
        for product_id, units in totals.units.items():
            demand[product_id][night] = units
    incoming: dict[int, dict[date, int]] = defaultdict(dict)
    for product_id, day, qty in (
        IncomingStock.objects.filter(arrives_on__gte=forecast.start, arrives_on__lte=forecast.end)
        .values("product_id", "arrives_on")
        .annotate(qty=Sum("quantity"))
        .values_list("product_id", "arrives_on", "qty")
    ):
        incoming[product_id][day] = qty
    supplies = {s.product_id: s for s in ProductSupply.objects.select_related("supplier")}
    rows = []
    for product in Product.objects.filter(stock__isnull=False).order_by("sku"):
        projection = stock_projection(
            start=forecast.start,
            stock=product.stock,
            demand=demand.get(product.pk, {}),
            incoming=incoming.get(product.pk, {}),
            days=days,
        )
        supply = supplies.get(product.pk)
        rows.append(
            StockRow(
                product_id=product.pk,
                sku=product.sku,
                name=product.name,
                stock=product.stock,
                incoming=sum(incoming.get(product.pk, {}).values()),
                demand=sum(demand.get(product.pk, {}).values()),
                projection=projection,
                runs_out=stock_out_date(projection),
                supply=supply,
                reorder=reorder(
                    projection,
                    today=forecast.today,
                    reorder_point=supply.reorder_point,
                    days_of_cover=supply.days_of_cover,
                    lead_time_days=supply.lead_time_days,
                    order_unit=supply.order_unit,
                )
                if supply is not None
                else None,
            )
        )
    return rows


@dataclass(slots=True)
class PurchaseLine:
    sku: str
    name: str
    stock: int
    incoming: int
    runs_out: date | None
    order_by: date
    quantity: int
    overdue: bool
    lead_time_days: int
    order_unit: int


def purchase_list(forecast: Forecast) -> list[tuple[Supplier, list[PurchaseLine]]]:
    """What to order from each supplier, and by when, for the horizon of `forecast` (soonest first)."""
    by_supplier: dict[int, tuple[Supplier, list[PurchaseLine]]] = {}
    for row in stock_outlook(forecast):
        if row.reorder is None or row.supply is None:
            continue
        supplier = row.supply.supplier
        entry = by_supplier.setdefault(supplier.pk, (supplier, []))
        entry[1].append(
            PurchaseLine(
                sku=row.sku,
                name=row.name,
                stock=row.stock,
                incoming=row.incoming,
                runs_out=row.runs_out,
                order_by=row.reorder.order_by,
                quantity=row.reorder.quantity,
                overdue=row.reorder.overdue,
                lead_time_days=row.supply.lead_time_days,
                order_unit=row.supply.order_unit,
            )
        )
    out = []
    for supplier, lines in sorted(by_supplier.values(), key=lambda e: e[0].name):
        out.append((supplier, sorted(lines, key=lambda line: (line.order_by, line.sku))))
    return out
