"""`manage.py demo_totp_code`: the demo admin's current TOTP code (from seed_demo's public secret)."""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from scheduler.demo_seed import ADMIN_EMAIL, ADMIN_TOTP_SECRET


class Command(BaseCommand):
    help = "デモ管理者の現在の認証コード（TOTP）を表示します。デモ用の公開シークレットからのみ計算します。"

    def handle(self, *args, **options) -> None:
        period = app_settings.TOTP_PERIOD
        now = time.time()
        code = format_hotp_value(hotp_value(ADMIN_TOTP_SECRET, int(now // period)))
        self.stdout.write(f"{code}  ({ADMIN_EMAIL}, valid for {period - int(now % period)} s more)")
