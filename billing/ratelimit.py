"""One charge rate shared by every worker on every host.

Celery's own `rate_limit` task option is enforced per worker process, so N workers would send N
times the rate to Stripe. Here the budget lives in Redis: a fixed-window counter per second
(INCR on `<prefix>:<epoch second>`, expiring after two seconds). A worker that finds the second full
sleeps until the next one. With no Redis (the embedded default) the same window is kept in process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings

KEY_PREFIX = "teiki:payments:rate"


class InProcessLimiter:
    def __init__(
        self,
        rate: int,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = max(1, rate)
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._window, self._count = -1, 0

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                window = int(now)
                if window != self._window:
                    self._window, self._count = window, 0
                if self._count < self.rate:
                    self._count += 1
                    return
            self._sleep(window + 1 - now)


class RedisLimiter:
    def __init__(
        self,
        rate: int,
        *,
        redis_url: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        import redis

        self.rate = max(1, rate)
        self._redis = redis.Redis.from_url(redis_url)
        self._clock, self._sleep = clock, sleep

    def acquire(self) -> None:
        while True:
            now = self._clock()
            window = int(now)
            key = f"{KEY_PREFIX}:{window}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            count, _ = pipe.execute()
            if count <= self.rate:
                return
            self._sleep(max(0.0, window + 1 - now))


_limiter: InProcessLimiter | RedisLimiter | None = None
_limiter_lock = threading.Lock()


def payment_rate_limiter() -> InProcessLimiter | RedisLimiter:
    global _limiter
    with _limiter_lock:
        rate = settings.PAYMENT_RATE_LIMIT_PER_SECOND
        if _limiter is None or _limiter.rate != max(1, rate):
            redis_url = getattr(settings, "REDIS_URL", "")
            _limiter = RedisLimiter(rate, redis_url=redis_url) if redis_url else InProcessLimiter(rate)
        return _limiter
