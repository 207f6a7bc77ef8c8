"""Schemathesis against the live API: every operation, signed in as the demo customer, all checks.

Fails on any 5xx and on any answer the OpenAPI schema does not describe (status, content type,
headers, body). Examples are bounded per operation so the whole run stays under a minute.
"""

from __future__ import annotations

import os
import secrets

import pytest
import requests

# serialized_rollback: the live server needs committed rows, and later tests need the rows migrations
# made (the beat schedule), which a transactional test would otherwise flush away.
pytestmark = [pytest.mark.django_db(transaction=True)]

EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))


@pytest.fixture
def demo_session(live_server, client):  # noqa: ANN001, ANN201
    """A requests session carrying the demo customer's session cookie and a CSRF pair."""
    from django.contrib.auth import get_user_model

    from billing.demo import demo_give_rewards
    from scheduler.demo_seed import DEMO_EMAIL, seed_all
    from subscriptions.selectors import today_in_shop

    seed_all(today_in_shop())
    demo_give_rewards(email=DEMO_EMAIL)
    client.force_login(get_user_model().objects.get(email=DEMO_EMAIL))
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts it as the cookie's secret
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.cookies.set("csrftoken", csrf)
    session.headers["X-CSRFToken"] = csrf
    session.headers["Referer"] = live_server.url + "/mypage/"
    yield session
    session.close()


def test_every_operation_conforms_to_the_schema(live_server, demo_session):  # noqa: ANN001
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # the whole API, not a part of it

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:  # noqa: ANN001
            # Every check but "schema-valid data is accepted": a schema cannot say that a postal code
            # exists, that a date lies in the shop's window or that a password is long enough, and
            # the API refuses those with a documented 400 {code, message} by design.
            case.call_and_validate(
                base_url=live_server.url, session=demo_session, excluded_checks=[positive_data_acceptance]
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - report every operation's failure
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
