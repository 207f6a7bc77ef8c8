"""Benchmark of the my page under concurrent load: `python bench/mypage.py`.

Builds customers with subscriptions, orders and timelines in the PostgreSQL database named by
DATABASE_URL (created and migrated if missing; a non-empty one is refused unless --reset), starts
gunicorn on 127.0.0.1 with the production settings, signs --clients customers in (one session
each) and has --clients threads request, over keep-alive connections on the loopback only:

  page: GET /mypage/subscriptions/<id>/   (the subscription page)
  api:  GET /api/mypage/subscriptions/<id>/ (its API)

each for at most --seconds seconds or --requests requests, after a short warm-up, each client
pausing --think-ms between its requests (0: a closed loop with no pause). Prints one line per
scenario and, last, a JSON object with p50/p95/p99 latency (ms), requests per second, the CPU
per request of gunicorn's workers, PostgreSQL's backends and this load generator, and the load
average next to each. Figures are measured, never asserted (issue 17's target: page p95 under
50 ms with 10 clients pausing 0.5 s on 2 cores). `--code DIR` serves another checkout (main
unpacked with `git archive`) against the same data: `--reuse --code /tmp/mypage_base`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-only-secret-key-not-for-production-0123456789"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per scenario")
    parser.add_argument("--requests", type=int, default=4000, help="request limit per scenario")
    parser.add_argument("--customers", type=int, default=200, help="customers in the database")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread)")
    parser.add_argument(
        "--worker-class", default="gthread", help="gthread (keep-alive) or sync (one request per connection)"
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="pause per client between requests (0: closed loop, every client always waiting on the server)",
    )
    parser.add_argument(
        "--code", default=str(ROOT), help="checkout gunicorn serves (e.g. main unpacked in /tmp), same data"
    )
    parser.add_argument(
        "--scenarios",
        default="page,api",
        help="comma-separated, of: page, api, healthz (the same server answering /healthz/: what "
        "gunicorn, the middleware and a session cost a request before any page work)",
    )
    parser.add_argument("--reset", action="store_true", help="drop and recreate a non-empty database")
    parser.add_argument("--reuse", action="store_true", help="load against the data of an earlier run")
    return parser.parse_args()


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": "memory://",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "LOG_LEVEL": "WARNING",
    }


def _prepare_database(url: str, reset: bool) -> None:
    from bench.benchdb import prepare_database

    prepare_database(url, reset=reset, script="bench/mypage.py")


def _session_for(user) -> str:  # noqa: ANN001
    """A signed-in session for the user, as a login would leave it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def _reuse(clients: int) -> list[tuple[str, int]]:
    import django

    django.setup()
    from customers.models import Customer

    found = []
    for customer in Customer.objects.select_related("user").order_by("id")[:clients]:
        found.append((_session_for(customer.user), customer.subscriptions.order_by("id").first().pk))
    return found


def _build(customers: int, clients: int) -> list[tuple[str, int]]:
    """Migrate, build the data and return (session key, subscription id) for each client."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from orders.models import Order, OrderLine
    from subscriptions.actors import Actor
    from subscriptions.models import ShopPolicy, SubscriptionAddon
    from subscriptions.selectors import today_in_shop
    from subscriptions.services import subscription_change_time_slot, subscription_skip_next
    from tests.factories import CourseFactory, CustomerFactory, ProductFactory, SubscriptionFactory
    from tests.fees import shop_with_methods

    ShopPolicy.current()
    # The shop uses what the page shows since issues 11-12 and ついで買い: delivery methods (宅配便 by
    # the table, メール便 when the items fit: the page says why they do not) and add-on products.
    shop_with_methods(wrapping_fee=0)
    addon_products = [
        ProductFactory(name=f"ついで買い商品{k}", price=1200 + 300 * k, addon_available=True)
        for k in range(3)
    ]
    courses = [CourseFactory() for _ in range(5)]
    anchor = today_in_shop() + timedelta(days=40)
    sessions = []
    for number in range(customers):
        customer = CustomerFactory()
        subscriptions = [
            SubscriptionFactory(
                customer=customer, course=courses[(number + k) % len(courses)], anchor_date=anchor
            )
            for k in range(2)
        ]
        main = subscriptions[0]
        actor = Actor.customer(customer.user)
        # A timeline of a few events, as a customer who has used the page before would have.
        subscription_change_time_slot(subscription_id=main.pk, time_slot="19-21", actor=actor)
        subscription_skip_next(subscription_id=main.pk, actor=actor)
        if number % 2 == 0:  # half the customers have a one-off item waiting for the next delivery
            SubscriptionAddon.objects.create(
                subscription=main, product=addon_products[number % 3], quantity=1
            )
        product = main.items.first().product
        for sequence in range(1, 6):
            order = Order.objects.create(
                customer=customer,
                subscription=subscriptions[1],
                sequence=sequence,
                creation_date=anchor - timedelta(days=30 * (6 - sequence)),
                delivery_date=anchor - timedelta(days=30 * (6 - sequence) - 5),
                status="completed",
                ship_name=customer.name,
                ship_postal_code="100-0001",
                ship_prefecture="東京都",
                ship_city="千代田区",
                ship_line1="千代田1-1",
                total=3980,
                tracking_number=f"1234-{number:04d}-{sequence}",
            )
            OrderLine.objects.create(
                order=order,
                product=product,
                sku=product.sku,
                product_name=product.name,
                quantity=1,
                unit_price=3980,
                tax_rate=8,
                line_total=3980,
            )
        if number < clients:
            sessions.append((_session_for(customer.user), main.pk))
    return sessions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(
    env: dict[str, str], port: int, workers: int, threads: int, worker_class: str, code: Path = ROOT
) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--worker-class={worker_class}",
        "--keep-alive=30",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=code, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    _stop(server)
    sys.exit("bench/mypage.py: gunicorn did not start")


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def _client(
    port: int,
    session: str,
    path: str,
    stop_at: float,
    budget: list[int],
    lock,  # noqa: ANN001
    out: list[float],
    think: float = 0.0,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Cookie": f"sessionid={session}", "Accept-Language": "ja"}
    while time.monotonic() < stop_at:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"bench/mypage.py: {path} answered {response.status}")
        out.append(elapsed)
        if think:  # a person reading the page before the next click
            time.sleep(think)
    conn.close()


def _server_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of gunicorn's workers: a per-request cost that noise from other processes
    on the machine inflates far less than latency does."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.pid:  # ppid: a worker of this gunicorn
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _database_cpu_seconds(database: str) -> dict[int, float]:
    """User + system CPU of each PostgreSQL backend serving `database` (their process title names it),
    by process id."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            fields = cmdline.with_name("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(cmdline.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _database_cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the backends spent between two readings: a backend that started since counts whole; one
    that ended (gunicorn's connections are replaced after CONN_MAX_AGE) loses its last stretch, so
    the figure is a floor, never negative."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _run(
    port: int,
    sessions: list[tuple[str, int]],
    template: str,
    seconds: float,
    requests: int,
    think: float = 0.0,
) -> dict:
    lock = threading.Lock()
    budget = [requests]
    results: list[list[float]] = [[] for _ in sessions]
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(port, session, template.format(id=sub_id), stop_at, budget, lock, results[i], think),
        )
        for i, (session, sub_id) in enumerate(sessions)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r)
    if len(latencies) < 2:  # a machine so loaded that the run saw (almost) no answers
        sys.exit(f"bench/mypage.py: only {len(latencies)} responses in {seconds}s; try more --seconds")
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
    }


def main() -> None:
    args = _parse()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/teiki_bench_mypage")
    env = _env(url)
    os.environ.update(env)
    database = urlparse(url).path.lstrip("/")
    if args.reuse:
        sessions = _reuse(args.clients)
    else:
        _prepare_database(url, args.reset)
        built = time.perf_counter()
        sessions = _build(args.customers, args.clients)
        print(f"built {args.customers} customers in {time.perf_counter() - built:.1f}s", flush=True)
    port = _free_port()
    server = _start_server(
        env, port, args.workers, args.threads, args.worker_class, Path(args.code).resolve()
    )
    load_before = os.getloadavg()[0]
    figures: dict[str, dict] = {}
    try:
        known = {
            "page": "/mypage/subscriptions/{id}/",
            "api": "/api/mypage/subscriptions/{id}/",
            "healthz": "/healthz/",
        }
        scenarios = {name: known[name] for name in args.scenarios.split(",")}
        for name, template in scenarios.items():
            _run(port, sessions, template, seconds=3, requests=200)  # warm-up: connections, caches
            cpu = _server_cpu_seconds(server)
            database_cpu = _database_cpu_seconds(database)
            client_cpu = time.process_time()
            figures[name] = _run(port, sessions, template, args.seconds, args.requests, args.think_ms / 1000)
            client_cpu = time.process_time() - client_cpu
            cpu = _server_cpu_seconds(server) - cpu
            database_cpu = _database_cpu_spent(database_cpu, _database_cpu_seconds(database))
            done = figures[name]["requests"]
            figures[name]["server_cpu_ms_per_request"] = round(1000 * cpu / done, 1)
            # The other two users of the same cores: PostgreSQL and this load generator.
            figures[name]["database_cpu_ms_per_request"] = round(1000 * database_cpu / done, 1)
            figures[name]["client_cpu_ms_per_request"] = round(1000 * client_cpu / done, 1)
            # The 1-minute load average of this 2-core machine as the scenario ended: above 2, other
            # work was queueing for the cores too and the latencies include that wait.
            figures[name]["load_average"] = round(os.getloadavg()[0], 2)
            print(f"{name}: {figures[name]}", flush=True)
    finally:
        _stop(server)
    print(
        json.dumps(
            {
                "code": str(Path(args.code).resolve()),
                "clients": args.clients,
                "think_ms": args.think_ms,
                "workers": args.workers,
                "threads": args.threads,
                "worker_class": args.worker_class,
                # 1-minute load average when the server started and when the runs ended (2 cores)
                "load_before": round(load_before, 2),
                "load_after": round(os.getloadavg()[0], 2),
                "customers": args.customers,
                **{f"{name}_{key}": value for name, row in figures.items() for key, value in row.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
