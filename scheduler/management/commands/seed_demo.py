"""`manage.py seed_demo`: demo products, courses, shop policy, an admin and a customer with subscriptions."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.demo import demo_give_cards, demo_give_rewards
from scheduler.demo_data import demo_subscriptions_create
from scheduler.demo_seed import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOTP_SECRET,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    seed_all,
)
from subscriptions.selectors import today_in_shop


class Command(BaseCommand):
    help = "デモデータ（商品・定期コース・ショップ設定・管理者・デモ顧客と定期購入）を作成します。2回目以降は何も変えません。"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--subscriptions",
            type=int,
            default=0,
            help="N 件の顧客と定期購入を追加します（scheduler.demo_data）",
        )

    def handle(self, *args, **options) -> None:
        report = seed_all(today_in_shop())
        report.created.extend(demo_give_cards())  # saved test cards, when Stripe is configured
        report.created.extend(demo_give_rewards(email=DEMO_EMAIL))  # points and a coupon to try
        for line in report.created:
            self.stdout.write(f"created {line}")
        if not report.created:
            self.stdout.write("nothing to do: demo data already present")
        if options["subscriptions"] > 0:
            bulk = demo_subscriptions_create(count=options["subscriptions"], today=today_in_shop())
            self.stdout.write(f"created {bulk}")
        self.stdout.write(
            self.style.SUCCESS(
                f"admin: {ADMIN_EMAIL} / {ADMIN_PASSWORD}  customer: {DEMO_EMAIL} / {DEMO_PASSWORD}"
            )
        )
        self.stdout.write(
            "admin second factor: `python manage.py demo_totp_code` prints the current 6-digit code "
            f"(or add the TOTP secret {ADMIN_TOTP_SECRET} to an authenticator app)"
        )
