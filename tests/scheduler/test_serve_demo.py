"""serve_demo (`make run`'s server) as a process: how it stops, and what it tells the person who started it."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from django.db import connection

from billing.localstripe_server import free_port
from tests.demo_process import DemoServer, demo_env

pytestmark = pytest.mark.django_db(transaction=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # an error page is an answer
    except OSError:
        return False


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def test_serve_demo_stops_on_sigterm_with_the_localstripe_it_started():
    port = free_port()
    server = DemoServer(
        f"{sys.executable} manage.py serve_demo --host 127.0.0.1 --port {port} --no-nightly",
        demo_env(DATABASE_URL=_test_database_url()),
    )
    try:
        stripe_url = server.wait_for(r"localstripe \(Stripe stand-in\) on (\S+);").group(1)
        assert server.wait_for(r"links in emails: (\S+)").group(1) == f"http://127.0.0.1:{port}"
        server.wait_for(r"^Starting development server at")
        assert _answers(f"http://127.0.0.1:{port}/accounts/login/")
        assert _answers(f"{stripe_url}/v1/balance")
    finally:
        status = server.terminate()
    assert status == 0
    assert "localstripe stopped" in server.lines
    assert not _answers(f"http://127.0.0.1:{port}/accounts/login/")
    assert not _answers(f"{stripe_url}/v1/balance")
