"""gunicorn, uvicorn and celery entry points: a forgotten DJANGO_SETTINGS_MODULE means production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOAD = {
    "wsgi": "import config.wsgi",
    "asgi": "import config.asgi",
    "celery": "import config.celery; from django.conf import settings; settings.SECRET_KEY",
}


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("entry", sorted(LOAD))
def test_without_settings_module_or_secret_it_refuses_to_start(entry):
    # given no DJANGO_SETTINGS_MODULE and no secret key in the environment
    # when the entry point is loaded
    result = _run(LOAD[entry])
    # then it fails, naming the missing secret, instead of serving the local settings
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_with_a_secret_it_loads_production_settings():
    result = _run(
        "import config.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        DJANGO_SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/teiki",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]
