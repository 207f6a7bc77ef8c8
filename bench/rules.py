"""Benchmark of the order rules in the nightly run: `python bench/rules.py --subscriptions N`.

Builds N due subscriptions exactly as bench/nightly.py does (in the EMPTY PostgreSQL database named
by DATABASE_URL), then makes one paired run on the same data:

  A. generation, then the rules stage with no shop rules (it still marks every order done);
  B. the same with ten typical rules (bench/rules.py's RULES).

Each pass runs inside one transaction that is rolled back afterwards, so B starts from the data A
started from; A runs first, then B, then A again, and the two A passes are averaged (the cache warms
up on the first). Between generation and the stage the card orders are marked paid, untimed, as the
charge stage would leave them (the stage runs after it). The rate is orders created per second of
generation plus the rules stage. The last line is a JSON object; figures are measured, never asserted.
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


def _pass(with_rules: bool, batch_size: int | None) -> dict:
    from django.db import transaction

    from orders.models import Order, OrderEvent, PaymentStatus
    from orders.rules.bulk import order_rules_apply_pending
    from orders.rules.services import order_rule_save
    from scheduler.generation import generate_due

    figures: dict = {}
    try:
        with transaction.atomic():
            if with_rules:
                for name, conditions, actions in RULES:
                    order_rule_save(name=name, conditions=conditions, actions=actions)
            started = time.monotonic()
            result = generate_due(run_date=RUN_DATE, batch_size=batch_size)
            generation = time.monotonic() - started
            Order.objects.filter(payment_kind="card").update(payment_status=PaymentStatus.PAID)
            started = time.monotonic()
            counts = order_rules_apply_pending(run_date=RUN_DATE)
            stage = time.monotonic() - started
            figures = {
                "orders_created": result.orders_created,
                "generation_seconds": round(generation, 2),
                "rules_stage_seconds": round(stage, 2),
                "per_second": round(result.orders_created / (generation + stage)),
                "rules_orders_changed": counts.get("rules_orders_changed", 0),
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
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("bench/rules.py: set DATABASE_URL to an empty PostgreSQL database")
    _prepare_database(url, args.reset)
    _setup_django()
    started = time.monotonic()
    build(args.subscriptions, RUN_DATE)
    print(f"built {args.subscriptions:,} subscriptions in {time.monotonic() - started:.1f}s", file=sys.stderr)

    without_1 = _pass(False, args.batch_size)
    with_rules = _pass(True, args.batch_size)
    without_2 = _pass(False, args.batch_size)
    baseline = (without_1["per_second"] + without_2["per_second"]) / 2
    print(
        json.dumps(
            {
                "subscriptions": args.subscriptions,
                "rules": len(RULES),
                "orders_created": with_rules["orders_created"],
                "without_rules_per_second": [without_1["per_second"], without_2["per_second"]],
                "with_rules_per_second": with_rules["per_second"],
                "ratio": round(with_rules["per_second"] / baseline, 3) if baseline else None,
                "rules_stage_seconds": with_rules["rules_stage_seconds"],
                "rules_stage_seconds_without_rules": [
                    without_1["rules_stage_seconds"],
                    without_2["rules_stage_seconds"],
                ],
                "rules_orders_changed": with_rules["rules_orders_changed"],
                "rule_events": with_rules["rule_events"],
                "peak_rss_mb": _rss_mb(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
