"""A cache that is only a cache: Django's Redis backend, but an unreachable Redis is a miss, not a 500.

Production keeps sessions in `cached_db` (the database is the truth, the cache saves a query), allauth
keeps its login rate limits here and the my page its catalogue version. When Redis is down every read
answers "not cached" (sessions then come from the database, rate limits fail open, the catalogue is
reloaded) and every write is dropped, with a WARNING at most every `WARN_EVERY` seconds per process so
an outage is in the logs without flooding them. Bugs (a value that cannot be pickled, a bad key) still
raise: only connection and timeout errors are swallowed.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("config.cache")

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)
WARN_EVERY = 30.0

_last_warning = 0.0
_warning_lock = threading.Lock()


def _warn(operation: str, exc: BaseException) -> None:
    global _last_warning
    with _warning_lock:
        now = time.monotonic()
        if now - _last_warning < WARN_EVERY:
            return
        _last_warning = now
    logger.warning("cache unavailable (%s: %s): served without it", operation, exc)


def _miss(default_from: str | None = None, value: Any = None):  # noqa: ANN202
    """Wrap a cache method: on a connection error answer `value` (or the call's `default`)."""

    def decorate(method):  # noqa: ANN001, ANN202
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                _warn(method.__name__, exc)
                if default_from is not None:
                    return kwargs.get(default_from, args[1] if len(args) > 1 else None)
                return value() if callable(value) else value

        return wrapper

    return decorate


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool: Django builds a
    new `redis.Redis` for every cache operation, and its constructor (response callbacks, options)
    cost the my page more CPU than the two Redis round trips themselves. A redis-py client is
    thread-safe; the connections still come from the pool per command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class FailSafeRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _miss(default_from="default")(RedisCache.get)
    set = _miss()(RedisCache.set)
    # `add` answers True: allauth takes its rate-limit lock with add(), and a lock nobody can hold
    # would make every login wait; with the cache gone there is nothing to race for.
    add = _miss(value=True)(RedisCache.add)
    touch = _miss(value=False)(RedisCache.touch)
    delete = _miss(value=False)(RedisCache.delete)
    get_many = _miss(value=dict)(RedisCache.get_many)
    set_many = _miss(value=list)(RedisCache.set_many)
    delete_many = _miss()(RedisCache.delete_many)
    has_key = _miss(value=False)(RedisCache.has_key)
    clear = _miss(value=False)(RedisCache.clear)

    def incr(self, key, delta=1, version=None):  # noqa: ANN001, ANN201
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            _warn("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc
