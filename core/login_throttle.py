"""Sign-in throttling per account and per client address, counted in the database.

allauth's own limit lives in the cache, which fails open when Redis is gone (FailSafeRedisCache);
this one keeps working without Redis. If the database itself cannot answer, the throttle lets the
attempt through and logs a line: signing in then fails on its own, and nobody is locked out by an
outage of the counter.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import LoginFailure

logger = logging.getLogger(__name__)


def _keys(*, account: str, address: str) -> list[tuple[str, str, int]]:
    """(scope, key, limit) for each counter this attempt touches."""
    keys = []
    if account:
        keys.append(
            (LoginFailure.Scope.ACCOUNT, account.strip().lower()[:254], settings.LOGIN_THROTTLE_PER_ACCOUNT)
        )
    if address:
        keys.append((LoginFailure.Scope.ADDRESS, address[:254], settings.LOGIN_THROTTLE_PER_ADDRESS))
    return keys


def login_throttle_blocked(*, account: str, address: str) -> bool:
    """True when the account or the address had too many failures within the window."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    try:
        for scope, key, limit in _keys(account=account, address=address):
            if LoginFailure.objects.filter(scope=scope, key=key, at__gte=since).count() >= limit:
                logger.warning("login throttled: %s %s", scope, key)
                return True
    except DatabaseError:
        logger.warning("login throttle unavailable (database error): attempt allowed", exc_info=True)
    return False


def login_failure_record(*, account: str, address: str) -> None:
    try:
        LoginFailure.objects.bulk_create(
            [
                LoginFailure(scope=scope, key=key)
                for scope, key, _limit in _keys(account=account, address=address)
            ]
        )
        # Old rows only slow the count down: drop what has left the window, now and then cheaply.
        LoginFailure.objects.filter(
            at__lt=timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
        ).delete()
    except DatabaseError:
        logger.warning("login throttle could not record a failure (database error)", exc_info=True)


def login_failures_clear(*, account: str) -> None:
    """A successful sign-in forgets the account's failures (the address keeps its count)."""
    try:
        LoginFailure.objects.filter(scope=LoginFailure.Scope.ACCOUNT, key=account.strip().lower()).delete()
    except DatabaseError:
        logger.warning("login throttle could not clear failures (database error)", exc_info=True)
