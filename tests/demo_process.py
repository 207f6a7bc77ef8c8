"""The demo as `make run` starts it, for tests: the commands of the Makefile's `run` recipe, run in
order with the demo's settings (config.settings.local, SQLite, tasks in-process, localstripe), the
last one (serve_demo) left running.

The recipe is read from the Makefile rather than copied here, so a change to `make run` changes what
the tests start. Only the database file differs (a temporary one instead of var/teiki.sqlite3), and
compilemessages is left out: its output (.mo) is committed and the test must not rewrite it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# What the person running `make run` would not have set: the test process's own settings.
FOREIGN_ENV = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "STRIPE_", "SITE_URL", "EMAIL_")
SKIPPED = ("compilemessages",)


def make_run_commands(*, host: str, port: int) -> list[str]:
    """The shell lines of the Makefile's `run:` recipe with its variables filled in."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    if match is None:
        raise AssertionError("the Makefile has no `run:` recipe")
    values = {"$(BIN)/python": sys.executable, "$(HOST)": host, "$(PORT)": str(port)}
    commands = []
    for line in match.group(1).splitlines():
        command = line.strip().lstrip("@-")
        if any(word in command for word in SKIPPED):
            continue
        for variable, value in values.items():
            command = command.replace(variable, value)
        if "$(" in command:
            raise AssertionError(f"cannot run `{line.strip()}` outside make")
        commands.append(command)
    if not commands or "serve_demo" not in commands[-1]:
        raise AssertionError("`make run` no longer ends with serve_demo")
    return commands


def demo_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


class DemoServer:
    """serve_demo running in a child process; its output is collected line by line."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        # exec: the shell becomes serve_demo, so a signal sent to this pid reaches it.
        self.process = subprocess.Popen(  # noqa: S602 - a line of our own Makefile
            f"exec {command}",
            shell=True,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        """The first output line (already seen or still to come) that matches `pattern`."""
        compiled = re.compile(pattern)
        for line in list(self.lines):
            if found := compiled.search(line):
                return found
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.process.poll() is not None and self._queue.empty():
                    break
                continue
            if found := compiled.search(line):
                return found
        tail = "\n".join(self.lines[-40:])
        raise AssertionError(f"serve_demo never printed /{pattern}/; its last lines:\n{tail}")

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, as a supervisor or `kill` sends it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("serve_demo did not stop on SIGTERM") from None


def start_demo(*, database: Path, host: str, port: int) -> DemoServer:
    """Run `make run`'s commands against `database`; returns the running server once it serves."""
    env = demo_env(DATABASE_URL=f"sqlite:///{database}")
    *setup, serve = make_run_commands(host=host, port=port)
    for command in setup:
        result = subprocess.run(  # noqa: S602 - a line of our own Makefile
            command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise AssertionError(f"`{command}` failed:\n{result.stdout}\n{result.stderr}")
    server = DemoServer(serve, env)
    server.wait_for(r"^Starting development server at")
    return server


class DemoDatabase:
    """Read-only queries on the demo's SQLite file (WAL: reading never blocks the demo's writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        connect = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=20)
        with contextlib.closing(connect) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, params)]

    def row(self, sql: str, *params: Any) -> dict[str, Any]:
        rows = self.rows(sql, *params)
        assert len(rows) == 1, f"{len(rows)} rows for {sql} {params}"
        return rows[0]
