"""What a forecast holds, and how it is written out (JSON for scripts, CSV and a table for people)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class NightTotals:
    """The orders the nightly run for one creation date is forecast to make."""

    orders: int = 0
    held: int = 0  # created on hold (要対応) for a known reason; stock shortfalls are in the stock outlook
    moved: int = 0
    resumed: int = 0  # orders of subscriptions the forecast resumes from a pause
    resumes: int = 0  # paused subscriptions the night's resume stage brings back
    revenue: int = 0  # order totals, yen, tax included, after discounts, coupons and points
    items_subtotal: int = 0
    discount: int = 0
    shipping_fee: int = 0
    cod_fee: int = 0
    points_used: int = 0
    units: Counter = field(default_factory=Counter)  # product id -> units
    # Estimates, not forecasts: the same orders weighted by the measured continuation rates.
    estimated_orders: float = 0.0
    estimated_revenue: float = 0.0


@dataclass(slots=True)
class DeliveryTotals:
    orders: int = 0
    units: Counter = field(default_factory=Counter)
    time_slots: Counter = field(default_factory=Counter)  # "" = no slot chosen
    payment_kinds: Counter = field(default_factory=Counter)
    shipping_fee: int = 0
    cod_fee: int = 0


@dataclass(slots=True)
class ShipDay:
    ship_date: date
    parcels: int
    capacity: int | None

    @property
    def overflow(self) -> int:
        return max(0, self.parcels - self.capacity) if self.capacity is not None else 0


@dataclass(slots=True)
class Forecast:
    today: date
    start: date
    end: date
    nights: dict[date, NightTotals]
    deliveries: dict[date, DeliveryTotals]
    ship_days: list[ShipDay]
    skus: dict[int, str]  # product id -> SKU
    subscriptions: int = 0  # subscriptions the forecast played forward
    failed: int = 0  # subscriptions whose schedule cannot be planned (the nightly run fails them too)
    seconds: float = 0.0

    def night_list(self) -> list[tuple[date, NightTotals]]:
        return sorted(self.nights.items())

    def units_by_sku(self, units: Counter) -> dict[str, int]:
        return {
            self.skus.get(pid, str(pid)): n
            for pid, n in sorted(units.items(), key=lambda kv: self.skus.get(kv[0], ""))
        }

    def totals(self) -> dict[str, int]:
        nights = self.nights.values()
        return {
            "orders": sum(n.orders for n in nights),
            "revenue": sum(n.revenue for n in nights),
            "units": sum(sum(n.units.values()) for n in nights),
            "estimated_orders": round(sum(n.estimated_orders for n in nights)),
            "estimated_revenue": round(sum(n.estimated_revenue for n in nights)),
        }

    def as_json(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "subscriptions": self.subscriptions,
            "failed": self.failed,
            "totals": self.totals(),
            "days": [
                {
                    "creation_date": night.isoformat(),
                    "orders": t.orders,
                    "held": t.held,
                    "moved": t.moved,
                    "resumed": t.resumed,
                    "resumes": t.resumes,
                    "units": self.units_by_sku(t.units),
                    "revenue": t.revenue,
                    "items_subtotal": t.items_subtotal,
                    "discount": t.discount,
                    "shipping_fee": t.shipping_fee,
                    "cod_fee": t.cod_fee,
                    "points_used": t.points_used,
                    "estimate": {"orders": round(t.estimated_orders), "revenue": round(t.estimated_revenue)},
                }
                for night, t in self.night_list()
            ],
            "deliveries": [
                {
                    "delivery_date": day.isoformat(),
                    "orders": t.orders,
                    "units": self.units_by_sku(t.units),
                    "time_slots": dict(sorted(t.time_slots.items())),
                    "payment_kinds": dict(sorted(t.payment_kinds.items())),
                    "shipping_fee": t.shipping_fee,
                    "cod_fee": t.cod_fee,
                }
                for day, t in sorted(self.deliveries.items())
            ],
            "shipping": [
                {
                    "ship_date": s.ship_date.isoformat(),
                    "parcels": s.parcels,
                    "capacity": s.capacity,
                    "overflow": s.overflow,
                }
                for s in self.ship_days
            ],
        }

    def sku_columns(self) -> list[str]:
        used = {pid for t in self.nights.values() for pid in t.units}
        return sorted(self.skus.get(pid, str(pid)) for pid in used)

    def csv_text(self) -> str:
        skus = self.sku_columns()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            ["creation_date", "orders", "held", "revenue", "shipping_fee", "points_used", "estimated_orders",
             "estimated_revenue", *skus]
        )  # fmt: skip
        for night, t in self.night_list():
            units = self.units_by_sku(t.units)
            writer.writerow(
                [night.isoformat(), t.orders, t.held, t.revenue, t.shipping_fee, t.points_used,
                 round(t.estimated_orders), round(t.estimated_revenue), *(units.get(s, 0) for s in skus)]
            )  # fmt: skip
        return out.getvalue()

    def table_text(self) -> str:
        lines = [f"{'creation':<10} {'orders':>8} {'held':>6} {'revenue':>14} {'units':>8} {'estimate':>9}"]
        for night, t in self.night_list():
            lines.append(
                f"{night.isoformat():<10} {t.orders:>8,} {t.held:>6,} {t.revenue:>14,} "
                f"{sum(t.units.values()):>8,} {round(t.estimated_orders):>9,}"
            )
        totals = self.totals()
        lines.append(
            f"{'total':<10} {totals['orders']:>8,} {'':>6} {totals['revenue']:>14,} {totals['units']:>8,} "
            f"{totals['estimated_orders']:>9,}"
        )
        return "\n".join(lines)
