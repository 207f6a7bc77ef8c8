"""The payment admin pages answer with few queries; the charge rate limit is one budget for everyone."""

from __future__ import annotations

import pytest
import redis

from billing.models import DunningRule
from billing.ratelimit import KEY_PREFIX, InProcessLimiter, RedisLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_in_process_limiter_lets_n_through_per_second_then_waits_for_the_next() -> None:
    clock = FakeClock()
    limiter = InProcessLimiter(3, clock=clock, sleep=clock.sleep)

    for _ in range(7):
        limiter.acquire()

    assert clock.slept == [1.0, 1.0]  # 3 in second 1000, 3 in 1001, the 7th in 1002


def test_the_redis_limiter_is_one_budget_shared_by_every_worker(settings) -> None:  # noqa: ANN001
    url = settings.REDIS_URL
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    clock = FakeClock()
    clock.now = 1_900_000_000.0
    keys = [f"{KEY_PREFIX}:{int(clock.now)}", f"{KEY_PREFIX}:{int(clock.now) + 1}"]
    redis.Redis.from_url(url).delete(*keys)
    workers = [RedisLimiter(5, redis_url=url, clock=clock, sleep=clock.sleep) for _ in range(3)]

    for worker in workers:
        worker.acquire()
        worker.acquire()  # three workers, two charges each: 6 charges, 5 allowed per second

    counts = [int(redis.Redis.from_url(url).get(key)) for key in keys]
    assert counts == [6, 1]  # the sixth found the second full and went in the next one
    assert clock.slept == [1.0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/billing/paymentattempt/",
        "/admin/billing/dunningcase/",
        "/admin/billing/paymentmethod/",
        "/admin/billing/webhookevent/",
        "/admin/billing/dunningrule/",
    ],
)
def test_payment_admin_pages_open(admin_client, url, django_assert_max_num_queries) -> None:  # noqa: ANN001
    assert DunningRule.objects.count() == 4
    with django_assert_max_num_queries(12):
        response = admin_client.get(url)

    assert response.status_code == 200
