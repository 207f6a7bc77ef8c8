"""The signed-in user comes from one hand-written SELECT per request (core.session_user), with
Django's checks: nothing is cached, so a password change, a deactivated account or a deleted user
shows on the very next request of every other session."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]


def _signed_in(user, backend: str) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user, backend=backend)
    assert client.get("/mypage/").status_code == 200
    return client


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_password_changed_elsewhere_signs_this_session_out_on_its_next_request(backend: str) -> None:
    user = CustomerFactory().user
    phone, laptop = _signed_in(user, backend), _signed_in(user, backend)
    user.set_password("a-new-password-0192")
    user.save()  # the laptop changed it (Django keeps the laptop's own session with update_session_auth_hash)
    response = phone.get("/mypage/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert laptop.session.get("_auth_user_id") is not None  # untouched until it asks again


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_deactivated_or_deleted_user_is_signed_out_on_the_next_request(backend: str) -> None:
    customer = CustomerFactory()
    client = _signed_in(customer.user, backend)
    get_user_model().objects.filter(pk=customer.user_id).update(is_active=False)  # no signal either
    assert client.get("/mypage/").status_code == 302
    other = CustomerFactory()
    client = _signed_in(other.user, backend)
    other.subscriptions.all().delete()
    other.delete()
    get_user_model().objects.filter(pk=other.user_id).delete()
    assert client.get("/mypage/").status_code == 302


def test_the_user_is_the_one_the_orm_would_load() -> None:
    user = CustomerFactory().user
    client = _signed_in(user, BACKENDS[0])
    response = client.get("/mypage/")
    seen = response.wsgi_request.user
    fresh = get_user_model().objects.get(pk=user.pk)
    fields = [f.attname for f in get_user_model()._meta.concrete_fields]
    assert [getattr(seen, f) for f in fields] == [getattr(fresh, f) for f in fields]
    assert seen._state.adding is False and seen._state.db == "default"


def test_a_session_with_a_backend_no_longer_configured_is_anonymous() -> None:
    user = CustomerFactory().user
    client = _signed_in(user, BACKENDS[0])
    session = client.session
    session["_auth_user_backend"] = "somewhere.else.Backend"
    session.save()
    assert client.get("/mypage/").status_code == 302
