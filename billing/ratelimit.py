"""One charge rate shared by every worker on every host.

Celery's own `rate_limit` task option is enforced per worker process, so N workers would send N
times the rate to Stripe. Here the budget lives in Redis: a fixed-window counter per second
(INCR on `<prefix>:<epoch second>`, expiring after two seconds). A worker that finds the second full
sleeps until the next one. With no Redis (the embedded default) the same window is kept in process,
and so it is while Redis is unreachable (logged): each process then keeps the rate on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings

KEY_PREFIX = "teiki:payments:rate"
logger = logging.getLogger(__name__)


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
        self.rate = max(1, rate)
        self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._clock, self._sleep = clock, sleep
        self._unavailable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._fallback = InProcessLimiter(rate, clock=clock, sleep=sleep)
        self._warned_at = float("-inf")

    def acquire(self) -> None:
        while True:
            now = self._clock()
            window = int(now)
            key = f"{KEY_PREFIX}:{window}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            try:
                count, _ = pipe.execute()
            except self._unavailable as exc:
                if now - self._warned_at > 30:
                    self._warned_at = now
                    logger.warning("payment rate limit: Redis unavailable (%s), limiting in process", exc)
                self._fallback.acquire()
                return
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
