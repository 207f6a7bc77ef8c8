"""A shop frozen on a Tuesday in January 2027, with the demo catalogue and policy."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

TODAY = dt.date(2027, 1, 12)


@pytest.fixture
def shop(db):  # noqa: ANN001, ANN201
    from scheduler.demo_seed import seed_all

    with time_machine.travel(dt.datetime(2027, 1, 12, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        seed_all(TODAY)
        yield TODAY
