"""The settings each environment runs with, checked in a fresh interpreter per environment (the test
process itself runs config.settings.test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Two writers on the demo's SQLite file: the first holds its write for a second (a nightly batch),
# the second reads and then writes meanwhile (a Stripe webhook arriving during it).
TWO_WRITERS = """
import json, threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS writes (who text)")
connection.close()
holding, errors = threading.Event(), []

def write(who, hold):
    try:
        if not hold:
            holding.wait()  # the webhook arrives while the nightly batch holds its write
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM writes")
            cursor.execute("INSERT INTO writes VALUES (%s)", [who])
            if hold:
                holding.set()
                time.sleep(1)
    except Exception as error:
        errors.append(str(error))
    finally:
        holding.set()
        connection.close()

threads = [threading.Thread(target=write, args=("nightly", True)), threading.Thread(target=write, args=("webhook", False))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT who FROM writes ORDER BY who")
    rows = [row[0] for row in cursor.fetchall()]
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()[0]
print(json.dumps({"errors": errors, "rows": rows, "journal_mode": mode}))
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "SITE_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_demo_sqlite_lets_a_webhook_write_while_another_write_runs(tmp_path):
    result = _run(
        TWO_WRITERS,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"errors": [], "rows": ["nightly", "webhook"], "journal_mode": "wal"}


REQUEST = """
import django
django.setup()
from django.test import Client
response = Client().get("/mypage/")
print(response.status_code, response.get("Location", ""))
"""


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        ({}, "301 https://shop.example.com/mypage/"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "true"}, "301 https://shop.example.com/mypage/"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "false"}, "302 /accounts/login/?next=/mypage/"),
    ],
)
def test_production_redirects_plain_http_to_https_unless_switched_off(switch, expected):
    result = _run(
        REQUEST.replace("Client()", 'Client(HTTP_HOST="shop.example.com")'),
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="shop.example.com",
        DATABASE_URL="sqlite:///:memory:",
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        **switch,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
