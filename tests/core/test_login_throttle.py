"""Sign-in throttling per account and per client address, in the database: works with Redis gone."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError
from django.urls import reverse

from core.login_throttle import login_throttle_blocked
from core.models import LoginFailure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    from allauth.account.models import EmailAddress

    user = UserFactory(email="shop@example.com")
    user.set_password("right-password-1")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture(autouse=True)
def _no_cache_limit(settings):
    # allauth's own (cache) limit off, as when Redis is down: only the database throttle is left.
    settings.ACCOUNT_RATE_LIMITS = False
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    settings.LOGIN_THROTTLE_PER_ADDRESS = 5


def _login(client, email, password, address="10.0.0.1"):
    return client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize(
    ("failures", "then_right_password_signs_in"),
    [(0, True), (1, True), (2, True), (3, False), (4, False)],
)
def test_an_account_is_throttled_after_its_failures(client, account, failures, then_right_password_signs_in):
    for n in range(failures):
        _login(client, account.email, f"wrong-{n}", address=f"10.0.1.{n}")  # a new address each time
    response = _login(client, account.email, "right-password-1", address="10.0.9.9")
    assert (response.status_code == 302) is then_right_password_signs_in
    if not then_right_password_signs_in:
        assert "too many" in response.content.decode().lower() or "ログイン" in response.content.decode()


def test_an_address_is_throttled_across_accounts(client, account):
    for n in range(5):
        _login(client, f"nobody{n}@example.com", "wrong")
    assert LoginFailure.objects.filter(scope="address", key="10.0.0.1").count() == 5
    assert _login(client, account.email, "right-password-1").status_code == 200  # refused
    assert _login(client, account.email, "right-password-1", address="10.0.0.2").status_code == 302


def test_a_successful_sign_in_forgets_the_accounts_failures(client, account):
    for n in range(2):
        _login(client, account.email, "wrong", address=f"10.0.2.{n}")
    assert _login(client, account.email, "right-password-1").status_code == 302
    assert not LoginFailure.objects.filter(scope="account", key=account.email).exists()


def test_the_throttle_reads_no_cache(client, account, monkeypatch):
    # given a cache that fails every call, as Redis gone would without the fail-safe wrapper
    from django.core.cache import cache

    for name in ("get", "set", "add", "incr", "get_many", "delete"):
        monkeypatch.setattr(cache, name, lambda *a, **k: (_ for _ in ()).throw(ConnectionError("redis")))
    # then the throttle still counts and blocks
    from core.login_throttle import login_failure_record

    for _n in range(3):
        login_failure_record(account=account.email, address="10.0.3.1")
    assert login_throttle_blocked(account=account.email, address="10.9.9.9")


def test_a_database_error_lets_the_attempt_through_and_logs(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise DatabaseError("gone")

    monkeypatch.setattr(LoginFailure.objects, "filter", broken)
    with caplog.at_level(logging.WARNING, logger="core.login_throttle"):
        assert login_throttle_blocked(account="a@example.com", address="10.0.0.1") is False
    assert "login throttle unavailable" in caplog.text
