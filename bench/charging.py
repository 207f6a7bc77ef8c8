"""Benchmark of the nightly charge stage: `python bench/charging.py --due N`.

Builds N due subscriptions (bench/nightly.py's data) in the EMPTY PostgreSQL database named by
DATABASE_URL, a share of them paying by card (--card-share, default 10 %) and the rest by bank
transfer, konbini and cash on delivery in turn, plus --baseline-sample more offline ones. It starts
localstripe (its own port, --port) and --workers Celery worker processes (prefork) on the broker
in REDIS_URL, with CONN_MAX_AGE (--conn-max-age, production's 60), then:

1. localstripe's own ceiling: a bare Stripe client in 8 threads creating confirmed off-session
   PaymentIntents (what the gateway's charge sends) for --ceiling-seconds; again for 5 s at the end;
2. the whole night as run_pipeline runs it (resumes, generation, the charge stage, dunning,
   reminders, point expiry, outbox sweep), timed per stage, then the wait until the workers have
   charged every card order under PAYMENT_RATE_LIMIT_PER_SECOND (--rate, default 200) and sent
   every mail the settlement wrote by reference;
3. before the charge stage, the paired "before" figures: the one-by-one path (payment_charge_order
   per order, mails rendered and sent inline) on --baseline-sample offline orders, and
   --card-baseline-sample card orders charged a billing.charge_order task each (the fan-out before
   batches) by the same workers; the settlement is paired with generation in the same run too.

Prints figures; the last line is JSON: offline_per_second (bulk) against generation_per_second and
offline_one_by_one_per_second, card_charges_per_second against rate_limit and localstripe's
ceiling, seconds with and without charging and their ratio, load averages per phase. Figures are
measured, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OFFLINE = ("bank_transfer", "konbini", "cod")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, required=True)
    parser.add_argument("--card-share", type=float, default=0.10)
    parser.add_argument("--baseline-sample", type=int, default=1000, help="offline orders one by one")
    parser.add_argument("--card-baseline-sample", type=int, default=500, help="card orders, a task each")
    parser.add_argument("--rate", type=int, default=200, help="PAYMENT_RATE_LIMIT_PER_SECOND")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--gen-workers", type=int, default=2, help="generation lanes (threads)")
    parser.add_argument("--ceiling-seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_LOCALSTRIPE_PORT", "8423")))
    parser.add_argument("--conn-max-age", type=int, default=60, help="CONN_MAX_AGE (production's default)")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument(
        "--settle-only",
        action="store_true",
        help="every order offline; generation and the settlement alone, paired (no localstripe, no workers)",
    )
    return parser.parse_args()


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _environment(args: argparse.Namespace, stripe_url: str) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("bench/charging.py: set REDIS_URL (the broker and the shared rate budget)")
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_SECRET_KEY": "sk_test_12345",
        "STRIPE_API_BASE": stripe_url,
        "PAYMENT_RATE_LIMIT_PER_SECOND": str(args.rate),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": str(args.conn_max_age),
    }
    os.environ.update(env)
    return {**os.environ}


def _ceiling(stripe_url: str, pm: str, customer: str, seconds: float) -> float:
    """PaymentIntents a second localstripe answers for a bare client in 8 threads."""
    import stripe

    client = stripe.StripeClient("sk_test_12345", base_addresses={"api": stripe_url}, max_network_retries=0)
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < stop:
            client.v1.payment_intents.create(
                params={
                    "amount": 3980, "currency": "jpy", "customer": customer, "payment_method": pm,
                    "confirm": True, "off_session": True,
                }
            )  # fmt: skip
            with lock:
                done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started)


def _stripe_card(stripe_url: str) -> tuple[str, str]:
    import stripe

    client = stripe.StripeClient("sk_test_12345", base_addresses={"api": stripe_url}, max_network_retries=0)
    customer = client.v1.customers.create(params={"email": "bench@example.com"})
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031,
                                         "cvc": "123"}}
    )  # fmt: skip
    client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    return customer.id, pm.id


def _assign_payment_kinds(due: int, card_sample: int, card_share: float, customer: str, pm: str) -> int:
    """Cards for every 1/card_share-th of the N and the card sample right after them (one Stripe
    customer and card behind all of them, each order still its own charge); offline kinds in turn for
    the others and the offline sample."""
    from django.db import connection

    step = max(1, round(1 / card_share)) if card_share > 0 else 0
    with connection.cursor() as cursor:
        # bench/nightly.py's addresses put 100-0001 (千代田区, 東京都) in every prefecture, which the
        # postal check at generation now holds; the charge stage wants orders that are not held.
        cursor.execute("UPDATE customers_address SET prefecture = '東京都'")
        cursor.execute(
            "UPDATE billing_paymentmethod SET kind = (ARRAY['bank_transfer','konbini','cod'])[1 + id % 3], "
            "stripe_payment_method_id = ''"
        )
        cards = 0
        if step:
            cursor.execute(
                "UPDATE billing_paymentmethod SET kind = 'card', stripe_payment_method_id = %s "
                "WHERE id <= %s AND id %% %s = 0",
                [pm, due, step],
            )
            cards = cursor.rowcount
            cursor.execute(
                "UPDATE billing_paymentmethod SET kind = 'card', stripe_payment_method_id = %s "
                "WHERE id > %s AND id <= %s",
                [pm, due, due + card_sample],
            )
            cursor.execute("UPDATE customers_customer SET stripe_customer_id = %s", [customer])
        cursor.execute("ANALYZE")
    return cards


def _empty_broker(redis_url: str) -> None:
    """Messages an interrupted run left on the broker would name this run's order ids."""
    import redis

    client = redis.Redis.from_url(redis_url)
    dropped = client.llen("celery") + client.hlen("unacked")
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    if dropped:
        print(f"dropped {dropped:,} messages an earlier run left on the broker", file=sys.stderr)


def _start_workers(env: dict[str, str], n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={n}", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open("/tmp/bench_charging_worker.log", "ab"),  # noqa: SIM115
        start_new_session=True,
    )  # fmt: skip


def _timed_stages(stages, run_date, timings: dict[str, float]):  # noqa: ANN001, ANN202
    from scheduler.pipeline import merge_counters

    counters: dict = {}
    for stage in stages:
        started = time.monotonic()
        counters = merge_counters(counters, stage(run_date))
        timings[stage.__name__.removeprefix("stage_")] = time.monotonic() - started
    return counters


def _cards_one_task_each(order_ids: list[int], worker: subprocess.Popen) -> float:
    """The fan-out before batches: a billing.charge_order task per order, through the outbox."""
    from notifications.outbox import outbox_dispatch, outbox_enqueue_many
    from orders.models import Order
    from orders.models import PaymentStatus as P

    if not order_ids:
        return 0.0
    started = time.monotonic()
    keys = outbox_enqueue_many(
        rows=[(f"bench.card_sample:{i}", "billing.charge_order", [i]) for i in order_ids]
    )
    outbox_dispatch(keys=keys, limit=len(keys))
    left = Order.objects.filter(pk__in=order_ids, payment_status__in=(P.UNPAID, P.PROCESSING))
    _first, done = _wait_until(left.count, worker)
    return len(order_ids) / (done - started)


def _one_by_one(order_ids: list[int], run_date) -> float:  # noqa: ANN001
    from billing.services.payments import payment_charge_order

    started = time.monotonic()
    for order_id in order_ids:
        payment_charge_order(order_id=order_id, today=run_date)
    return len(order_ids) / (time.monotonic() - started) if order_ids else 0.0


def _wait_until(done, worker: subprocess.Popen, poll: float = 0.2) -> tuple[float | None, float]:  # noqa: ANN001
    """(when `done()` first returned less than at the start, when it returned 0): a monotonic clock."""
    first = None
    start = done()
    while True:
        left = done()
        now = time.monotonic()
        if left < start and first is None:
            first = now
        if left == 0:
            return first, now
        if worker.poll() is not None:
            sys.exit("bench/charging.py: the Celery worker died; see /tmp/bench_charging_worker.log")
        time.sleep(poll)


def _per_second(count: float, seconds: float | None) -> float | None:
    return round(count / seconds, 1) if seconds else None


def _night(args: argparse.Namespace, worker: subprocess.Popen) -> dict:
    """The night stage by stage, with the paired one-by-one sample; the raw measurements."""
    from django.db import connection
    from django.db.models import Max, Min

    from bench.nightly import RUN_DATE
    from billing import stages
    from billing.bulk import payments_bulk_settle, settleable_orders
    from billing.models import PaymentAttempt
    from billing.stages import stage_charge_new_orders
    from notifications.models import Notification
    from orders.models import Order
    from orders.models import PaymentStatus as P
    from scheduler.generation import generate_due
    from scheduler.pipeline import AFTER_GENERATION, BEFORE_GENERATION

    m: dict = {"timings": {}, "load": {}}
    timings = m["timings"]
    night = time.monotonic()
    _timed_stages(BEFORE_GENERATION, RUN_DATE, timings)
    t = time.monotonic()
    m["generated"] = generate_due(run_date=RUN_DATE, workers=args.gen_workers)
    timings["generation"] = time.monotonic() - t
    m["load"]["generation"] = _load()
    # The paired "before": the sample's offline orders one by one, outside the night's clock.
    paused = time.monotonic()
    sample = settleable_orders(run_date=RUN_DATE).filter(subscription_id__gt=args.due)
    m["sample_ids"] = list(sample.order_by("pk").values_list("pk", flat=True))
    m["one_by_one"] = _one_by_one(m["sample_ids"], RUN_DATE)
    m["load"]["one_by_one"] = _load()
    cards = Order.objects.filter(subscription_id__gt=args.due, payment_kind="card", status="new")
    m["card_sample_ids"] = list(cards.order_by("pk").values_list("pk", flat=True))
    m["cards_one_task_each"] = _cards_one_task_each(m["card_sample_ids"], worker)
    m["load"]["cards_one_task_each"] = _load()
    paused = time.monotonic() - paused
    m["offline_due"] = settleable_orders(run_date=RUN_DATE).count()
    m["cards_due"] = Order.objects.filter(payment_status=P.UNPAID, status="new", payment_kind="card").count()
    mails_before = Notification.objects.count()

    def timed_settle(**kwargs) -> dict:  # noqa: ANN003 - the stage's own call, timed
        t = time.monotonic()
        m["settled"] = payments_bulk_settle(**kwargs)
        timings["settle_bulk"] = time.monotonic() - t
        m["load"]["settle"] = _load()
        return m["settled"]

    stages.payments_bulk_settle = timed_settle
    t = time.monotonic()
    # The card batches are queued first, then the offline orders settle while the workers charge.
    m["charge_counters"] = stage_charge_new_orders(RUN_DATE)
    timings["charge_stage"] = time.monotonic() - t
    charges_started = t
    m["mails_queued"] = Notification.objects.count() - mails_before
    _timed_stages([s for s in AFTER_GENERATION if s is not stage_charge_new_orders], RUN_DATE, timings)
    m["without"] = time.monotonic() - night - paused - timings["charge_stage"]
    # Wait for the workers: every queued card order paid, failed or otherwise out of "processing".
    left = Order.objects.filter(
        payment_kind="card", status="new", payment_status__in=(P.UNPAID, P.PROCESSING)
    )
    _first_paid, last_paid = _wait_until(left.count, worker)
    m["load"]["charging"] = _load()
    # And for the mails the settlement wrote by reference (the workers render and send them).
    _first, mails_done = _wait_until(Notification.objects.filter(status="pending").count, worker, poll=0.5)
    m["mails_done"] = mails_done - charges_started
    m["with_charging"] = last_paid - night - paused
    m["charge_seconds"] = last_paid - charges_started
    m["paid"] = Order.objects.filter(payment_kind="card", payment_status=P.PAID).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        m["database_mb"] = cursor.fetchone()[0] // 2**20
    # The gateway window from the database: the first attempt written to the last one recorded.
    window = PaymentAttempt.objects.exclude(order_id__in=m["card_sample_ids"]).aggregate(
        first=Min("created_at"), last=Max("updated_at")
    )
    m["window_seconds"] = (window["last"] - window["first"]).total_seconds() if window["first"] else None
    return m


def _figures(
    args: argparse.Namespace, m: dict, ceiling: tuple[float, float], built: float, cards: int
) -> dict:
    timings, generated, settled = m["timings"], m["generated"], m["settled"]
    offline_rate = settled["awaiting_offline"] / timings["settle_bulk"] if timings["settle_bulk"] else 0
    gen_rate = generated.orders_created / timings["generation"]
    card_rate = m["cards_due"] / m["charge_seconds"] if m["charge_seconds"] else 0
    return {
        "due": args.due,
        "orders_created": generated.orders_created,
        "held": generated.held,
        "build_seconds": round(built, 1),
        "generation_seconds": round(timings["generation"], 2),
        "generation_per_second": round(gen_rate),
        "offline_orders": settled["awaiting_offline"],
        "free_orders": settled["not_required"],
        "offline_due": m["offline_due"],
        "offline_seconds": round(timings["settle_bulk"], 2),
        "offline_per_second": round(offline_rate),
        "offline_to_generation_rate": round(offline_rate / gen_rate, 2),
        "offline_one_by_one_sample": len(m["sample_ids"]),
        "offline_one_by_one_per_second": round(m["one_by_one"]),
        "offline_bulk_to_one_by_one": round(offline_rate / m["one_by_one"], 1) if m["one_by_one"] else None,
        "mails_queued_in_charge_stage": m["mails_queued"],
        "mails_all_sent_seconds_after_charge_stage_began": round(m["mails_done"], 1),
        "card_orders": m["cards_due"],
        "cards_assigned": cards,
        "card_paid": m["paid"],
        "card_charge_seconds": round(m["charge_seconds"], 2),
        "card_charges_per_second": round(card_rate, 1),
        "card_sample_one_task_each": len(m["card_sample_ids"]),
        "card_sample_one_task_each_per_second": round(m["cards_one_task_each"], 1),
        # Attempts written to attempts recorded: the charging itself, without the queueing before it.
        "card_charges_per_second_in_window": _per_second(m["cards_due"], m["window_seconds"]),
        "rate_limit": args.rate,
        "celery_workers": args.workers,
        "localstripe_ceiling_per_second": round(ceiling[0], 1),
        "localstripe_ceiling_after_per_second": round(ceiling[1], 1),
        "card_rate_to_lower_of_limit_and_ceiling": round(card_rate / min(args.rate, ceiling[0]), 3),
        "window_rate_to_lower_of_limit_and_ceiling": round(
            (_per_second(m["cards_due"], m["window_seconds"]) or 0) / min(args.rate, ceiling[0]), 3
        ),
        "night_seconds_without_charging": round(m["without"], 2),
        "night_seconds_with_charging": round(m["with_charging"], 2),
        "ratio_with_to_without": round(m["with_charging"] / m["without"], 2),
        "stage_seconds": {k: round(v, 2) for k, v in timings.items()},
        "charge_counters": m["charge_counters"],
        "conn_max_age": args.conn_max_age,
        "peak_rss_mb_bench_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "database_mb_after": m["database_mb"],
        "load": m["load"],
    }


def _settle_only(args: argparse.Namespace) -> None:
    """Generation, then the stage's settlement of every order (all offline), timed in one run."""
    from bench.nightly import RUN_DATE, build
    from billing.bulk import payments_bulk_settle
    from notifications.bulk import notifications_deliveries_held
    from scheduler.generation import generate_due

    started = time.monotonic()
    build(args.due, RUN_DATE)
    _assign_payment_kinds(args.due, 0, 0, "", "")
    built = time.monotonic() - started
    t, cpu = time.monotonic(), time.process_time()
    generated = generate_due(run_date=RUN_DATE, workers=args.gen_workers)
    gen_seconds, gen_load = time.monotonic() - t, _load()
    t, cpu_settle = time.monotonic(), time.process_time()
    with notifications_deliveries_held():  # as the stage runs it; the mails are left in the outbox
        settled = payments_bulk_settle(run_date=RUN_DATE, asynchronous_commit=True)
    settle_seconds, settle_cpu = time.monotonic() - t, time.process_time() - cpu_settle
    print(json.dumps({
        "due": args.due, "build_seconds": round(built, 1), "orders_created": generated.orders_created,
        "generation_seconds": round(gen_seconds, 1), "generation_per_second": round(generated.orders_created / gen_seconds),
        "generation_python_cpu_seconds": round(cpu_settle - cpu, 1), "offline_orders": settled["awaiting_offline"],
        "settle_seconds": round(settle_seconds, 1), "offline_per_second": round(settled["awaiting_offline"] / settle_seconds),
        "settle_python_cpu_seconds": round(settle_cpu, 1),
        "offline_to_generation_rate": round(settled["awaiting_offline"] / settle_seconds / (generated.orders_created / gen_seconds), 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load": {"generation": gen_load, "settle": _load()},
    }))  # fmt: skip


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit("bench/charging.py: set DATABASE_URL to an empty PostgreSQL database")
    from bench.benchdb import prepare_database
    from billing.localstripe_server import start_localstripe, stop_localstripe

    prepare_database(url, reset=args.reset, script="bench/charging.py")
    server = start_localstripe(args.port)
    worker = None
    try:
        env = _environment(args, server.url)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from bench.nightly import RUN_DATE, build

        if args.settle_only:
            _settle_only(args)
            return
        customer, pm = _stripe_card(server.url)
        ceiling = _ceiling(server.url, pm, customer, args.ceiling_seconds)
        ceiling_load = _load()
        print(f"localstripe ceiling: {ceiling:,.0f} PaymentIntents/s (load {ceiling_load})", file=sys.stderr)
        started = time.monotonic()
        build(args.due + args.card_baseline_sample + args.baseline_sample, RUN_DATE)
        cards = _assign_payment_kinds(args.due, args.card_baseline_sample, args.card_share, customer, pm)
        built = time.monotonic() - started
        total = args.due + args.card_baseline_sample + args.baseline_sample
        print(f"built {total:,} in {built:.1f}s", file=sys.stderr)
        _empty_broker(os.environ["REDIS_URL"])
        worker = _start_workers(env, args.workers)
        time.sleep(3)  # the pool's processes are up before the clock starts
        measured = _night(args, worker)
        measured["load"]["ceiling"] = ceiling_load
        after = _ceiling(server.url, pm, customer, min(5.0, args.ceiling_seconds))
        print(json.dumps(_figures(args, measured, (ceiling, after), built, cards)))
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        stop_localstripe(server)


if __name__ == "__main__":
    main()
