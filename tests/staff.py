"""Staff sign-in with a real second factor, for every test that opens the admin.

`staff_login(client, user)` gives the user a TOTP authenticator (and a verified e-mail address,
which allauth wants before a password sign-in), then signs in through allauth exactly as a person
does: the password form, then the six-digit code. The session then carries allauth's "mfa" record.
"""

from __future__ import annotations

import secrets
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

STAFF_PASSWORD = "staff-pass-12345"


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now (or at `at`, a Unix time) for `secret`."""
    import time

    from allauth.mfa import app_settings

    counter = int((time.time() if at is None else at) // app_settings.TOTP_PERIOD)
    return format_hotp_value(hotp_value(secret, counter))


_used_codes: dict[tuple[int, str], float] = {}


def _unused_code(user: Any, secret: str) -> str:
    """A code valid now that this user has not signed in with yet.

    allauth accepts the codes of the steps either side of now (MFA_TOTP_TOLERANCE) and each only once,
    so a test that signs the same person in twice within one step takes the next step's code rather
    than failing on "code already used"; taking it from the window also means a step rolling over
    between making the code and posting it cannot fail the sign-in.
    """
    import time

    from allauth.mfa import app_settings

    now = time.time()
    for offset in (0, 1, -1):
        code = totp_code(secret, now + offset * app_settings.TOTP_PERIOD)
        if _used_codes.get((user.pk, code), 0) < now:
            _used_codes[(user.pk, code)] = now + 3 * app_settings.TOTP_PERIOD
            return code
    raise AssertionError(f"{user} signed in more than three times within {app_settings.TOTP_PERIOD} s")


def staff_totp_enroll(user: Any) -> str:
    """Give the user a TOTP authenticator; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def staff_login(client: Any, user: Any, *, password: str = STAFF_PASSWORD) -> Any:
    """Sign `user` in with password and TOTP (enrolling one first if needed); returns the client."""
    user.set_password(password)
    if not user.email:
        user.email = f"{user.get_username()}@example.com"
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        secret = staff_totp_enroll(user)
    else:
        from allauth.mfa.utils import decrypt

        secret = decrypt(authenticator.data["secret"])
    # A fresh client address per sign-in: allauth limits sign-ins per address (30 a minute, in the
    # cache), which a test run signing staff in hundreds of times from 127.0.0.1 would reach.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": password}, REMOTE_ADDR=address
    )
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate"), response
    response = client.post(
        reverse("mfa_authenticate"), {"code": _unused_code(user, secret)}, REMOTE_ADDR=address
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client
