"""Shared fixtures. Tests run against real PostgreSQL (DATABASE_URL, default postgres@127.0.0.1/teiki)."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.stripe_server"]


@pytest.fixture
def policy(db):  # noqa: ANN001, ANN201
    from subscriptions.models import ShopPolicy

    return ShopPolicy.current()
