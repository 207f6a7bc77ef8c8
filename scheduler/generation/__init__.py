"""Generating child orders (the nightly run): set-based, exactly once per (subscription, sequence).

One batch = one transaction: claim up to NIGHTLY_BATCH_SIZE due rows (FOR UPDATE SKIP LOCKED on
PostgreSQL), read their items, prices, customers, addresses and payment methods in a fixed number
of queries, plan every order in memory, then write orders, lines, timeline events, the advanced
schedules and the stock with bulk statements. Because the schedule moves on in the same
transaction as the order is written, a repeated or overlapping run finds nothing left to do.

The unique constraint on (subscription, sequence) is the last line of defence. Before writing, the
batch looks up orders that already exist for its rows (one query) and leaves those rows out; should
an IntegrityError still happen (an order inserted by something that does not take the row lock),
the transaction is rolled back and the batch retried, and the retry's lookup then sees the
conflicting order. A batch whose counted stock was taken meanwhile by another batch
(writers.StockChanged) is retried the same way. We do not use ON CONFLICT DO NOTHING: it would hide which rows lost and leave
their lines, events and schedule updates to be unpicked again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from catalog.bulk import stock_levels
from customers.models import Customer
from customers.selectors import blacklist_index
from notifications.services import notification_send
from pricing.bulk import benefits_bulk_record
from pricing.selectors import PricingBook, PricingCatalog
from subscriptions.bulk import AddonsChanged
from subscriptions.models import ShopPolicy
from subscriptions.schedule import ScheduleMemo

from .plan import BatchPlan, PlanContext, PlannedSkip, plan_batch
from .rows import DueRow, claim_batch, due_queryset, existing_orders
from .ruling import RulesAtCreation
from .writers import StockChanged, write_batch

__all__ = ["BatchResult", "GenerationRun", "count_due", "drain", "generate_due"]

logger = logging.getLogger(__name__)

RACE_RETRIES = 3


@dataclass(slots=True)
class BatchResult:
    due: int = 0  # rows claimed
    orders_created: int = 0
    held: int = 0
    skipped: int = 0  # deliveries skipped for a stock shortfall (SKIP policy)
    moved: int = 0  # deliveries moved to the first date that could still be met
    failed_ids: list[int] = field(default_factory=list)
    # Rows passed over because they already have an order made on this run date.
    passed_ids: list[int] = field(default_factory=list)
    # (next_creation_date, id) of the last row claimed: where the lane's next claim continues.
    last_key: tuple[date, int] | None = None
    # The order rules run as the orders were created (orders.rules.creation): orders seen, changed…
    rules: Counter[str] = field(default_factory=Counter)

    @property
    def exclude_ids(self) -> list[int]:
        """Rows later claims of this run must leave out: nothing more will happen to them tonight."""
        return [*self.failed_ids, *self.passed_ids]

    def counters(self) -> dict[str, int]:
        return {
            "due": self.due,
            "orders_created": self.orders_created,
            "held": self.held,
            "skipped": self.skipped,
            "moved": self.moved,
            "failed": len(self.failed_ids),
            **self.rules,
        }

    def add(self, other: BatchResult) -> None:
        self.due += other.due
        self.orders_created += other.orders_created
        self.held += other.held
        self.skipped += other.skipped
        self.moved += other.moved
        self.failed_ids.extend(other.failed_ids)
        self.passed_ids.extend(other.passed_ids)
        self.rules.update(other.rules)
        self.last_key = other.last_key or self.last_key


class GenerationRun:
    """What stays the same for every batch of one run date: the policy, calendar, memo and catalogue.

    The pricing catalogue (billing policy, fees, products and their prices, bulk discounts) is read
    once here and shared by every batch and lane of this run: the run prices with the catalogue as
    it was when the run started (under Celery, when the lane step started), so a price edited
    mid-run applies from the next run. Customers, coupons with their use counts and point balances
    are still read, and locked, per batch.
    """

    def __init__(self, run_date: date, *, batch_size: int | None = None, apply_rules: bool = True) -> None:
        policy = ShopPolicy.current()
        calendar = policy.business_calendar()
        self.run_date = run_date
        self.batch_size = batch_size or settings.NIGHTLY_BATCH_SIZE
        self.shortfall_policy = policy.stock_shortfall
        self.memo = ScheduleMemo(calendar, policy.lead_days)
        self.earliest_delivery = calendar.earliest_delivery(run_date, policy.lead_days)
        self.catalog = PricingCatalog.load(on=run_date)
        # Two queries per run, whatever its size; each batch checks its orders against it in memory.
        self.blacklist = blacklist_index()
        # The shop's order rules, read once per run like the catalogue; None (a dry run feeding the
        # rule simulation) writes the orders as before any rule, for the simulation to walk.
        self.rules = RulesAtCreation(today=run_date) if apply_rules else None

    def batch(
        self,
        *,
        exclude_ids: list[int] | tuple[int, ...] = (),
        after: tuple[date, int] | None = None,
        on_written: Callable[[BatchResult], None] | None = None,
    ) -> BatchResult:
        """Claim and generate one batch in its own transaction; `on_written` runs inside it."""
        for attempt in range(1, RACE_RETRIES + 1):
            try:
                with transaction.atomic():
                    result = self._batch_in_transaction(exclude_ids, after)
                    if on_written is not None:
                        on_written(result)
                return result
            except (IntegrityError, StockChanged, AddonsChanged):
                if attempt == RACE_RETRIES:
                    raise
                logger.warning("nightly %s: a batch raced another writer; retrying it", self.run_date)
        raise AssertionError("unreachable")

    def _batch_in_transaction(
        self, exclude_ids: list[int] | tuple[int, ...], after: tuple[date, int] | None
    ) -> BatchResult:
        if connection.vendor == "postgresql":
            _batch_settings()
        rows = claim_batch(
            run_date=self.run_date, batch_size=self.batch_size, exclude_ids=exclude_ids, after=after
        )
        if not rows:
            return BatchResult()
        has_sequence, ordered_today = existing_orders(rows, self.run_date)
        to_price = [row for row in rows if row.id not in has_sequence and row.id not in ordered_today]
        book = PricingBook.load(
            subscriptions=to_price,
            on=self.run_date,
            catalog=self.catalog,
            # Read by the claim in this transaction (joined from the customer row): no second query.
            customers={row.customer_id: (row.customer_group_id, row.customer_is_member) for row in to_price},
        )
        ctx = PlanContext(
            run_date=self.run_date,
            earliest_delivery=self.earliest_delivery,
            shortfall_policy=self.shortfall_policy,
            memo=self.memo,
            book=book,
            stock=_read_stock(to_price),
            blacklist=self.blacklist,
        )
        plan = plan_batch(rows, ctx, has_sequence=has_sequence, ordered_today=ordered_today)
        rules = write_batch(plan, run_date=self.run_date, now=timezone.now(), rules=self.rules)
        benefits = [
            (p.order_id, p.row.customer_id, p.row.id, p.sequence, p.priced.coupon_id, p.priced.points_used)
            for p in plan.orders
            if p.priced.coupon_id is not None or p.priced.points_used
        ]
        if benefits:
            benefits_bulk_record(orders=benefits, on=self.run_date)
        for skip in plan.skips:
            _notify_skip(skip)
        result = _result(rows, plan)
        result.rules.update(rules)
        result.last_key = (rows[-1].next_creation_date, rows[-1].id)
        return result


def _batch_settings() -> None:
    """SET LOCAL (this batch's transaction only): no JIT, and asynchronous commit.

    JIT: the orders table grows by a batch at a time with no ANALYZE in between, so the planner's
    guess for the existing-orders probe grew past jit_above_cost and PostgreSQL spent 10-12 ms a
    batch compiling a 1.5 ms query (auto_explain on bench/nightly.py, from about 40,000 orders on).
    Nothing in a batch runs long enough for JIT to pay off.

    Asynchronous commit: on a busy disk the WAL flush at commit took longer than the whole batch
    (1-3 s against 0.2-0.3 s, bench/nightly.py). What it risks is losing the last few hundred
    milliseconds of commits if the PostgreSQL server itself crashes, never a half-written batch:
    the orders and the schedule advance are in the same transaction, so a lost batch is simply due
    again and the next run creates it. Anything that acts on the orders outside the database
    (charging writes its payment attempt row first) commits synchronously, which flushes all the
    WAL before it, these batches included. NIGHTLY_SYNCHRONOUS_COMMIT=True turns this off.
    """
    sql = "SET LOCAL jit = off"
    if not settings.NIGHTLY_SYNCHRONOUS_COMMIT:
        sql += "; SET LOCAL synchronous_commit TO OFF"
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _read_stock(rows: list[DueRow]) -> dict[int, int]:
    """Tracked stock of the batch's products, read without a lock: the rows are locked (and the
    counts checked again) only when the stock is taken, just before commit (writers._take_stock)."""
    return stock_levels(product_ids={pid for row in rows for pid, _qty in row.goods})


def _notify_skip(skip: PlannedSkip) -> None:
    row = skip.row
    notification_send(
        key=f"stock_skip:{row.id}:{skip.sequence}",
        kind="stock_skip",
        to_email=row.customer_email,
        customer=Customer(id=row.customer_id, language=row.customer_language),
        context={
            "customer_name": row.customer_name,
            "subscription_id": row.id,
            "skipped_delivery_date": skip.delivery_date,
            "next_delivery_date": skip.next.delivery_date,
        },
    )


def _result(rows: list[DueRow], plan: BatchPlan) -> BatchResult:
    return BatchResult(
        due=len(rows),
        orders_created=len(plan.orders),
        held=sum(1 for p in plan.orders if p.hold_reasons),
        skipped=len(plan.skips),
        moved=sum(1 for p in plan.orders if p.moved_from is not None),
        failed_ids=list(plan.failed_ids),
        passed_ids=list(plan.passed_ids),
    )


def count_due(run_date: date) -> int:
    return due_queryset(run_date).count()


def generate_due(
    *,
    run_date: date,
    batch_size: int | None = None,
    progress: Callable[[BatchResult], None] | None = None,
    workers: int = 1,
    apply_rules: bool = True,
) -> BatchResult:
    """Generate every due order for `run_date` in this process, batch after batch.

    Rows that fail to plan, or already have tonight's order, are left out of later claims of this
    call, so no row loops the run.

    workers > 1 runs that many lanes in threads, each with its own database connection and its
    own batches (SKIP LOCKED keeps them apart), as Celery workers would: one lane plans in Python
    while another waits for PostgreSQL. Only outside a transaction: a thread's connection cannot
    see or join the caller's transaction (a dry run uses one worker).
    """
    run = GenerationRun(run_date, batch_size=batch_size, apply_rules=apply_rules)
    if workers <= 1:
        return _lane(run, progress, threading.Lock())
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("generate_due(workers>1) cannot run inside a transaction")
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nightly") as pool:
        lanes = [pool.submit(_lane_in_thread, run, progress, lock) for _ in range(workers)]
        total = BatchResult()
        for lane in lanes:
            total.add(lane.result())
    return total


def _lane_in_thread(run: GenerationRun, progress: Callable | None, lock: threading.Lock) -> BatchResult:
    try:
        return _lane(run, progress, lock)
    finally:
        connections.close_all()  # this thread's connection; the caller's stay open


def _lane(run: GenerationRun, progress: Callable | None, lock: threading.Lock) -> BatchResult:
    def report(result: BatchResult) -> None:
        if progress is not None:
            with lock:
                progress(result)

    total, _finished = drain(run, on_batch=report)
    return total


def drain(
    run: GenerationRun,
    *,
    exclude_ids: list[int] | None = None,
    on_written: Callable[[BatchResult], None] | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[BatchResult, bool]:
    """One lane: claim batches until nothing is due (returns finished=True) or `stop()` says so.

    The lane continues each claim after the last row it claimed; when that finds nothing it makes
    one more pass from the start, for rows another lane had locked and then left (a retried or
    failed batch), so a lane only reports "finished" after a pass from the start came back empty.
    """
    pause = float(getattr(settings, "NIGHTLY_BATCH_PAUSE_SECONDS", 0) or 0)
    exclude = list(exclude_ids or ())
    total = BatchResult()
    after = None
    while True:
        result = run.batch(exclude_ids=exclude, after=after, on_written=on_written)
        if result.due == 0:
            if after is None:
                return total, True
            after = None
            continue
        total.add(result)
        exclude.extend(result.exclude_ids)
        after = result.last_key
        if on_batch is not None:
            on_batch(result)
        if stop is not None and stop():
            return total, False
        if pause:
            # A breather between batches for a busy database (and a seam for the crash test).
            time.sleep(pause)
