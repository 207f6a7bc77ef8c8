"""Helpers for the Redis-outage tests: a redis-server of our own that a test can stop and start."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RedisServer:
    """`redis-server` on a fixed port (the redis helper's range, 9300-9399), no persistence."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            assert self.process.poll() is None, f"redis-server on {self.port} did not start"
            assert time.monotonic() < deadline, f"redis-server on {self.port} did not answer"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def queued(self, queue: str = "celery") -> int:
        import redis

        return redis.Redis.from_url(self.url).llen(queue)


@contextmanager
def celery_on_broker(url: str) -> Iterator[None]:
    """This process's Celery app publishing to `url` for real (not eager), as production does."""
    import kombu.pools

    from config.celery import app

    # Overridden in Celery's own layer of changes and taken out again after: writing back the values
    # read here would pin whatever the test's settings said (eager off) for every later test.
    keys = ("broker_url", "task_always_eager")
    saved = {key: app.conf.changes[key] for key in keys if key in app.conf.changes}

    def reset_pools() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps process-wide producer and connection pools keyed by broker; left alone they
        # hand the next test (back on the usual broker) a pool this one closed.
        kombu.pools.reset()

    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        for key in keys:
            if key in saved:
                app.conf.changes[key] = saved[key]
            else:
                app.conf.changes.pop(key, None)
