"""pytest plugin: a real Stripe-compatible server (localstripe, from PyPI) for the whole session.

`localstripe` starts it on a free port, waits until it answers and points the SDK and settings at it
with the test key sk_test_12345. `stripe_settings` (function scope) applies those settings to a
test. The server runs from scratch and never writes localstripe's shared /tmp pickle, so parallel
runs on one machine do not see each other's objects.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SECRET_KEY = "sk_test_12345"
PUBLISHABLE_KEY = "pk_test_12345"
WEBHOOK_SECRET = "whsec_test_secret"

_BOOT = """
import sys
import localstripe.resources as resources
resources.Store.dump_to_disk = lambda self: None  # no shared /tmp/localstripe.pickle
sys.argv = ["localstripe", "--port", sys.argv[1], "--from-scratch"]
from localstripe.server import start
start()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen

    def client(self):  # noqa: ANN201
        import stripe

        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url}, max_network_retries=0)


def start_localstripe(port: int | None = None, *, log_path: Path | None = None) -> LocalStripe:
    """Start localstripe as a subprocess and wait until it answers (also used by serve_demo)."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, "-c", _BOOT, str(port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            request = urllib.request.Request(
                f"{url}/v1/balance", headers={"Authorization": f"Bearer {SECRET_KEY}"}
            )
            with urllib.request.urlopen(request, timeout=1):
                return LocalStripe(url=url, process=process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"localstripe did not start on port {port}") from None
            time.sleep(0.1)


def stop_localstripe(server: LocalStripe) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    import stripe

    server = start_localstripe()
    previous = (stripe.api_key, stripe.api_base)
    stripe.api_key, stripe.api_base = SECRET_KEY, server.url
    try:
        yield server
    finally:
        stripe.api_key, stripe.api_base = previous
        stop_localstripe(server)


@pytest.fixture
def stripe_settings(localstripe: LocalStripe, settings):  # noqa: ANN001, ANN201
    """Settings pointing the app at the session's localstripe."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    return settings
