"""Checkouts per second and CPU per checkout, web and API: `python bench/checkout.py`.

Builds a shop (one course, untracked stock) in the PostgreSQL database named by DATABASE_URL
(created if missing; a non-empty one needs --reset), then places N checkouts in one thread through
Django's test client — the web flow (form post, confirmation screen, 「注文を確定する」) and the
headless API (POST /api/checkout/ with an Idempotency-Key) — and prints for each:

  checkouts/s   wall-clock rate in this one thread (new customer, address, payment method,
                subscription, first order, final-confirmation record and the thanks mail each)
  cpu_ms        this process's CPU time per checkout (Python + Django; PostgreSQL runs apart)
  queries       SQL queries per checkout

Bank transfer, so no card gateway is in the loop (a card adds one Stripe round trip after commit).
Settings: config.settings.test (fast MD5 password hashing, as in the tests: production's PBKDF2
adds its ~0.3 s of CPU per new member to the web figure, not to guests through the API).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=200, help="checkouts per channel (default 200)")
    parser.add_argument("--reset", action="store_true", help="drop and rebuild a non-empty database")
    args = parser.parse_args()
    from bench.benchdb import prepare_database

    url = os.environ.get("DATABASE_URL", "")
    prepare_database(url, reset=args.reset, script="bench/checkout.py")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from catalog.models import Course, CourseCycle, CourseItem, CoursePrice, Product
    from pricing.models import BillingPolicy

    billing = BillingPolicy.current()
    billing.shipping_base_fee = 550
    billing.save()
    product = Product.objects.create(sku="BENCH-1", name="青汁 30包", price=3980, tax_rate=8)
    course = Course.objects.create(code="bench", name="ベンチ定期コース", min_deliveries=3)
    CourseItem.objects.create(course=course, product=product, quantity=1)
    CoursePrice.objects.create(course=course, product=product, from_sequence=1, unit_price=980)
    CoursePrice.objects.create(course=course, product=product, from_sequence=2, unit_price=3980)
    CourseCycle.objects.create(course=course, unit="month", interval=1, is_default=True)

    def web(i: int) -> None:
        client = Client()
        response = client.post(
            "/courses/bench/checkout/",
            {
                "quantity": "1", "email": f"web{i}@example.com", "name": "ベンチ 花子", "password": "a-long-pass-123",
                "postal_code": "1000001", "line1": "千代田1-1", "payment_kind": "bank_transfer", "confirm": "1",
            },
        )  # fmt: skip
        assert response.status_code == 302, response.content[:500]
        page = client.get(response["Location"]).content.decode()
        version = page.split('name="confirmed_version" value="')[1].split('"')[0]
        placed = client.post(response["Location"], {"confirmed_version": version})
        assert "/checkout/done/" in placed["Location"]

    def api(i: int) -> None:
        response = Client().post(
            "/api/checkout/",
            {
                "course": "bench",
                "email": f"api{i}@example.com",
                "name": "API 太郎",
                "postal_code": "060-0001",
                "line1": "北1条西1-1",
                "payment_kind": "bank_transfer",
            },  # fmt: skip
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-api-{i:08d}",
        )
        assert response.status_code == 201, response.content[:500]

    for name, run in (("web", web), ("api", api)):
        run(-1)  # warm up: imports, template loading, the first connection
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(args.n):
                run(i)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"{name}: {args.n} checkouts in {wall:.2f} s = {args.n / wall:.1f} checkouts/s, "
            f"cpu {cpu * 1000 / args.n:.1f} ms/checkout, {len(queries) / args.n:.0f} queries/checkout"
        )


if __name__ == "__main__":
    main()
