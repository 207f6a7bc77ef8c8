"""Stored payment methods through the API: save a card via a SetupIntent, list, default, detach."""

from __future__ import annotations

import logging
import subprocess

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.models import PaymentMethod
from subscriptions.models import SubscriptionStatus
from tests.billing.payments_helpers import (
    DECLINED_AT_ATTACH,
    PUBLISHABLE_KEY,
    VISA,
    browser_confirms_card,
    save_card,
)
from tests.factories import CustomerFactory, SubscriptionFactory


@pytest.fixture
def customer(db):  # noqa: ANN001, ANN201
    return CustomerFactory()


@pytest.fixture
def api(customer) -> APIClient:  # noqa: ANN001
    client = APIClient()
    client.force_authenticate(customer.user)
    return client


def _add_card_through_api(api: APIClient, localstripe, number: str = VISA):  # noqa: ANN001, ANN202
    intent = api.post("/api/payment-methods/setup-intent/")
    assert intent.status_code == 201
    pm_id = browser_confirms_card(localstripe, intent.json()["client_secret"], number)
    return api.post("/api/payment-methods/", {"stripe_payment_method_id": pm_id}, format="json")


def test_setup_intent_gives_the_browser_a_client_secret_and_the_publishable_key(
    stripe_settings, api, customer
) -> None:  # noqa: ANN001
    response = api.post("/api/payment-methods/setup-intent/")

    assert response.status_code == 201
    body = response.json()
    assert body["client_secret"].startswith(f"{body['setup_intent_id']}_secret_")
    assert body["publishable_key"] == PUBLISHABLE_KEY
    customer.refresh_from_db()
    assert customer.stripe_customer_id.startswith("cus_")


def test_a_confirmed_card_is_saved_with_brand_last4_and_expiry_and_becomes_default(
    stripe_settings, api, localstripe
) -> None:  # noqa: ANN001
    response = _add_card_through_api(api, localstripe)

    assert response.status_code == 201
    assert response.json() | {"id": 0} == {
        "id": 0,
        "kind": "card",
        "kind_label": "クレジットカード",
        "label": "visa •••• 4242",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2031,
        "is_default": True,
    }


def test_saving_the_same_card_twice_keeps_one_row(stripe_settings, customer, localstripe) -> None:  # noqa: ANN001
    from billing.services.payments import payment_method_save

    method = save_card(localstripe, customer)

    again = payment_method_save(customer=customer, stripe_payment_method_id=method.stripe_payment_method_id)

    assert again.pk == method.pk
    assert PaymentMethod.objects.filter(customer=customer).count() == 1


def test_a_card_declined_at_attach_is_refused_with_a_clear_code(stripe_settings, api, localstripe) -> None:  # noqa: ANN001
    response = _add_card_through_api(api, localstripe, DECLINED_AT_ATTACH)

    assert response.status_code == 400
    assert response.json()["code"] == "card_declined"
    assert not PaymentMethod.objects.exists()


def test_list_shows_only_active_methods_default_first(
    stripe_settings, api, customer, localstripe, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    first = save_card(localstripe, customer)
    second = save_card(localstripe, customer)
    gone = save_card(localstripe, customer)
    PaymentMethod.objects.filter(pk=gone.pk).update(is_active=False)

    with django_assert_max_num_queries(4):
        response = api.get("/api/payment-methods/")

    assert [m["id"] for m in response.json()["results"]] == [first.pk, second.pk]


def test_make_default_moves_the_flag(stripe_settings, api, customer, localstripe) -> None:  # noqa: ANN001
    first = save_card(localstripe, customer)
    second = save_card(localstripe, customer)

    response = api.post(f"/api/payment-methods/{second.pk}/default/")

    assert response.status_code == 200
    assert list(customer.payment_methods.filter(is_default=True).values_list("pk", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert not first.is_default


def test_another_customers_method_is_not_found(stripe_settings, api, localstripe) -> None:  # noqa: ANN001
    stranger = save_card(localstripe, CustomerFactory())

    assert api.post(f"/api/payment-methods/{stranger.pk}/default/").status_code == 404
    assert api.delete(f"/api/payment-methods/{stranger.pk}/").status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_another_customers_stripe_card_cannot_be_claimed(stripe_settings, api, localstripe) -> None:  # noqa: ANN001
    stranger = save_card(localstripe, CustomerFactory())

    response = api.post(
        "/api/payment-methods/",
        {"stripe_payment_method_id": stranger.stripe_payment_method_id},
        format="json",
    )

    assert response.status_code == 404


def test_the_only_card_of_an_active_subscription_cannot_be_removed(
    stripe_settings, api, customer, localstripe
) -> None:  # noqa: ANN001
    card = save_card(localstripe, customer)
    SubscriptionFactory(customer=customer, payment_method=card)

    response = api.delete(f"/api/payment-methods/{card.pk}/")

    assert response.status_code == 409
    assert response.json()["code"] == "payment_method_in_use"
    card.refresh_from_db()
    assert card.is_active


def test_removing_a_card_moves_its_subscriptions_to_the_other_card_and_detaches_it_at_stripe(
    stripe_settings, api, customer, localstripe
) -> None:  # noqa: ANN001
    old = save_card(localstripe, customer)
    new = save_card(localstripe, customer)
    subscription = SubscriptionFactory(
        customer=customer, payment_method=old, status=SubscriptionStatus.ACTIVE
    )

    response = api.delete(f"/api/payment-methods/{old.pk}/")

    assert response.status_code == 204
    old.refresh_from_db()
    subscription.refresh_from_db()
    assert (old.is_active, old.is_default) == (False, False)
    assert subscription.payment_method_id == new.pk
    new.refresh_from_db()
    assert new.is_default
    remaining = localstripe.client().v1.payment_methods.list(
        params={"customer": customer.stripe_customer_id, "type": "card"}
    )
    assert [pm.id for pm in remaining.data] == [new.stripe_payment_method_id]


@pytest.mark.django_db(transaction=True)
def test_no_card_number_reaches_the_database_or_the_logs(stripe_settings, localstripe, caplog) -> None:  # noqa: ANN001
    customer = CustomerFactory()
    client = APIClient()
    client.force_authenticate(customer.user)
    intent = client.post("/api/payment-methods/setup-intent/").json()
    pm_id = browser_confirms_card(localstripe, intent["client_secret"], VISA)  # the browser's part

    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/payment-methods/", {"stripe_payment_method_id": pm_id}, format="json")

    assert response.status_code == 201
    settings_dict = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            settings_dict["HOST"] or "127.0.0.1",
            "-p",
            str(settings_dict["PORT"] or 5432),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert pm_id in dump  # the dump does hold what we saved…
    assert VISA not in dump  # …but never the number
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert VISA not in logged
