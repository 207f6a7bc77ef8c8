"""The admin wants a second factor from staff: set one up first, then pass it in each session."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.staff import STAFF_PASSWORD, staff_login, staff_totp_enroll, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")


def test_anonymous_admin_visitors_sign_in_through_allauth(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login.status_code == 302
    assert login["Location"].startswith(reverse("account_login") + "?next=")


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, staff):
    # given a staff member signed in with a password only, no authenticator yet
    from allauth.account.models import EmailAddress

    staff.set_password(STAFF_PASSWORD)
    staff.save()
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    client.post(reverse("account_login"), {"login": staff.email, "password": STAFF_PASSWORD})
    # when they open the admin (directly, or a staff page below it)
    for url in (
        reverse("admin:index"),
        reverse("admin:subscriptions_shoppolicy_changelist"),
        "/admin/insights/",
    ):
        response = client.get(url, follow=True)
        # then they are sent to the TOTP set-up page (which, as allauth does, asks for the password
        # once more before showing the secret)
        hops = [hop for hop, _status in response.redirect_chain]
        assert any(hop.startswith(reverse("mfa_activate_totp")) for hop in hops), (url, hops)
        assert response.status_code == 200


def test_staff_with_a_factor_not_passed_this_session_must_enter_it(client, staff):
    # given a staff member with TOTP whose session never entered a code
    secret = staff_totp_enroll(staff)
    client.force_login(staff)
    # when they open the admin, they are asked for the code
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate"))
    # a wrong code is refused
    wrong = client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302
    # the right one opens the admin
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_signing_in_with_password_and_totp_opens_the_admin(client, staff):
    staff_login(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get("/admin/insights/").status_code in (200, 302)


def test_a_password_alone_is_not_enough(client, staff):
    staff_totp_enroll(staff)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": STAFF_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_recovery_code_passes_the_second_factor(client, staff):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    staff_totp_enroll(staff)
    codes = RecoveryCodes.activate(staff).get_unused_codes()
    client.force_login(staff)
    client.post(reverse("mfa_reauthenticate"), {"code": codes[0]})
    assert client.get(reverse("admin:index")).status_code == 200


def test_customers_are_not_asked_for_a_second_factor(client):
    customer = UserFactory()
    client.force_login(customer)
    response = client.get(reverse("mypage:home"))
    assert "2fa" not in response.get("Location", "")
    assert response.status_code in (200, 404)  # 404: a user without a customer profile


def test_the_demo_admin_signs_in_with_the_printed_code(client):
    # given the demo data (its admin has the public demo TOTP secret)
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_totp_code", stdout=out)
    code = out.getvalue().split()[0]
    # when the admin signs in with the password and the printed code
    from scheduler.demo_seed import ADMIN_EMAIL, ADMIN_PASSWORD

    response = client.post(reverse("account_login"), {"login": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": code})
    # then the admin opens
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.fixture
def mid_step():
    """The clock stands still half-way through a 30-second step, so no step rolls over mid-test."""
    import time

    import time_machine

    with time_machine.travel((int(time.time()) // 30) * 30 + 15, tick=False):
        yield


@pytest.mark.parametrize(
    ("steps_ago", "accepted"),
    [(0, True), (1, True), (-1, True), (2, False), (-2, False)],
)
def test_a_code_from_the_neighbouring_step_signs_in_once(client, staff, mid_step, steps_ago, accepted):
    # given a staff member with TOTP who has entered the password
    import time

    from allauth.account.models import EmailAddress

    secret = staff_totp_enroll(staff)
    staff.set_password(STAFF_PASSWORD)
    staff.save()
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    client.post(reverse("account_login"), {"login": staff.email, "password": STAFF_PASSWORD})
    # when they type the code their phone showed `steps_ago` 30-second steps ago (the clock rolled
    # over as they typed, or the phone's clock is off)
    code = totp_code(secret, time.time() - steps_ago * 30)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    # then one step either side signs in, two steps does not
    assert (response.status_code == 302) is accepted
    if accepted:
        # and the same code cannot be used a second time
        client.logout()
        client.post(reverse("account_login"), {"login": staff.email, "password": STAFF_PASSWORD})
        again = client.post(reverse("mfa_authenticate"), {"code": code})
        assert again.status_code == 200
