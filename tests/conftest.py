"""Shared fixtures. Tests run against real PostgreSQL (DATABASE_URL, default postgres@127.0.0.1/teiki)."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

pytest_plugins = ["tests.stripe_server"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--today",
        default=os.environ.get("TEIKI_TEST_TODAY") or None,
        help="run the whole suite as if today were YYYY-MM-DD (10:00 shop time, the clock ticking); "
        "a test whose result changes with it must freeze time itself",
    )


def pytest_configure(config: pytest.Config) -> None:
    today = config.getoption("--today")
    if not today:
        return
    import time_machine

    day = date.fromisoformat(today)
    moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    config._teiki_today = time_machine.travel(moment, tick=True)  # type: ignore[attr-defined]
    config._teiki_today.start()  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str | None:
    today = config.getoption("--today")
    return f"today: {today} (--today / TEIKI_TEST_TODAY)" if today else None


@pytest.fixture
def policy(db):  # noqa: ANN001, ANN201
    from subscriptions.models import ShopPolicy

    return ShopPolicy.current()


@pytest.fixture
def admin_client(client, admin_user):  # noqa: ANN001, ANN201
    """pytest-django's admin_client, signed in the way the admin now requires: password and TOTP."""
    from tests.staff import staff_login

    return staff_login(client, admin_user)
