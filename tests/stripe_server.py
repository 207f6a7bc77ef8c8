"""pytest plugin: a real Stripe-compatible server (localstripe, from PyPI) for the whole session.

`localstripe` starts it on a free port, waits until it answers, points the SDK at it with the test
key sk_test_12345 and stops it at the end. `stripe_settings` (function scope) points the app's
settings (STRIPE_SECRET_KEY, STRIPE_API_BASE, …) at it for one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing.localstripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    LocalStripe,
    free_port,
    start_localstripe,
    stop_localstripe,
)

WEBHOOK_SECRET = "whsec_test_secret"

__all__ = ["PUBLISHABLE_KEY", "SECRET_KEY", "WEBHOOK_SECRET", "LocalStripe", "free_port"]


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
