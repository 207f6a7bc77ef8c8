"""The signed-in user of a request, read by hand: Django's AuthenticationMiddleware, but the user row
comes from one hand-written SELECT (core.sqlrows) instead of `User.objects.get(pk=…)`.

Every signed-in page reads its user, and on the my page compiling that one-row query cost more CPU
than PostgreSQL spent answering it. Nothing is cached: the row is read on every request, so a
password change, a deactivated account or a deleted user counts on the very next request, exactly
as before. What Django's `django.contrib.auth.get_user` checks is checked here in the same order
(the session's backend must still be configured, `user_can_authenticate`, the session hash against
the password with the secret-key fallbacks); a backend that is not a ModelBackend (none today) is
asked itself.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    _get_user_session_key,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from . import sqlrows
from .sqlrows import ModelColumns

_reads: dict[str, Any] = {}


def _user_by_pk(user_id: Any) -> Any:
    """The user with this primary key, as `User.objects.get(pk=…)` returns it; None if there is none."""
    if not _reads:
        columns = ModelColumns(get_user_model(), "u")
        _reads["columns"] = columns
        _reads["sql"] = f"SELECT {columns.sql} FROM {columns.table} WHERE {columns.column('id')} = %s"
    columns = _reads["columns"]
    try:
        pk = columns.model._meta.pk.to_python(user_id)
    except Exception:  # noqa: BLE001 - a session holding a malformed id, as .get(pk=) would fail
        return None
    rows = sqlrows.fetch(_reads["sql"], [pk])
    return columns.build(rows[0]) if rows else None


def session_user(request: HttpRequest) -> Any:
    """django.contrib.auth.get_user with the user loaded by hand for ModelBackend sessions."""
    user = None
    try:
        user_id = _get_user_session_key(request)
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(backend_path)
            if isinstance(backend, ModelBackend) and type(backend).get_user is ModelBackend.get_user:
                user = _user_by_pk(user_id)
                user = user if user is not None and backend.user_can_authenticate(user) else None
            else:
                user = backend.get_user(user_id)
            if hasattr(user, "get_session_auth_hash"):
                user = _verified(request, user)
    return user or AnonymousUser()


def _verified(request: HttpRequest, user: Any) -> Any:
    """The user if the session's hash matches the password (or a fallback secret's); else the
    session is flushed and None comes back — Django's check, unchanged."""
    session_hash = request.session.get(HASH_SESSION_KEY)
    if not session_hash:
        session_hash_verified = False
    else:
        session_auth_hash = user.get_session_auth_hash()
        session_hash_verified = constant_time_compare(session_hash, session_auth_hash)
    if session_hash_verified:
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback_auth_hash)
        for fallback_auth_hash in user.get_session_auth_fallback_hash()
    ):
        request.session.cycle_key()
        request.session[HASH_SESSION_KEY] = session_auth_hash
        return user
    request.session.flush()
    return None


def _cached_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's middleware (settings.MIDDLEWARE) with `request.user` from `session_user`."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))
