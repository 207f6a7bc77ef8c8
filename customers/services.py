"""Writes for customers and their addresses (sign-up, my page, seed_demo)."""

from __future__ import annotations

import re
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError

from .islands import postal_is_remote_island
from .models import LANGUAGE_CHOICES, PREFECTURES, Address, Customer
from .postal import postal_normalize

POSTAL_CODE = re.compile(r"^\d{3}-?\d{4}$")


def normalise_postal_code(value: str) -> str:
    """ "1000001", "100-0001", "１００－０００１", "〒100-0001" -> "100-0001"; anything else as typed."""
    code = postal_normalize(value)
    return f"{code[:3]}-{code[3:]}" if code else value


def customer_create(
    *,
    email: str,
    name: str,
    password: str | None = None,
    name_kana: str = "",
    phone: str = "",
    is_member: bool = True,
    email_verified: bool = False,
    is_staff: bool = False,
    password_hash: str | None = None,
) -> Customer:
    """An auth user (username = email) with its Customer profile and allauth's primary EmailAddress.

    `password_hash`: a password already hashed (make_password) by a caller that had to keep it
    between two requests (the checkout's form and its confirmation screen) without the raw text.
    """
    email = email.strip().lower()
    if not email or "@" not in email:
        raise DomainError("invalid_email", _("メールアドレスが正しくありません。"), field="email")
    if not name.strip():
        raise DomainError("name_required", _("お名前を入力してください。"), field="name")
    user_model = get_user_model()
    if user_model.objects.filter(username=email).exists():
        raise Conflict("email_taken", _("このメールアドレスは既に登録されています。"), field="email")
    with transaction.atomic():
        user = user_model(username=email, email=email, is_staff=is_staff)
        if password:
            user.set_password(password)
        elif password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()  # guests and imports: they set one through a reset mail
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=email_verified, primary=True)
        return Customer.objects.create(
            user=user, name=name.strip(), name_kana=name_kana, phone=phone, is_member=is_member
        )


def address_create(
    *,
    customer: Customer,
    recipient_name: str,
    postal_code: str,
    prefecture: str,
    city: str,
    line1: str,
    line2: str = "",
    phone: str = "",
    label: str = "",
    is_default: bool = False,
    is_remote_island: bool = False,
) -> Address:
    """Add an address; the first one, or one marked default, becomes the only default.

    A postal code on a remote island (customers.islands) marks the address 離島 whatever was passed,
    so the surcharge applies without staff ticking it."""
    postal_code = normalise_postal_code(postal_code)
    if not POSTAL_CODE.match(postal_code):
        raise DomainError(
            "invalid_postal_code", _("郵便番号は7桁の数字で入力してください。"), field="postal_code"
        )
    if prefecture not in PREFECTURES:
        raise DomainError("invalid_prefecture", _("都道府県が正しくありません。"), field="prefecture")
    for field, value in (("recipient_name", recipient_name), ("city", city), ("line1", line1)):
        if not value.strip():
            raise DomainError("required", _("必須項目が入力されていません。"), field=field)
    with transaction.atomic():
        has_default = customer.addresses.select_for_update().filter(is_default=True).exists()
        make_default = is_default or not has_default
        if make_default and has_default:
            customer.addresses.filter(is_default=True).update(is_default=False)
        return Address.objects.create(
            customer=customer,
            label=label,
            recipient_name=recipient_name,
            postal_code=postal_code,
            prefecture=prefecture,
            city=city,
            line1=line1,
            line2=line2,
            phone=phone,
            is_default=make_default,
            is_remote_island=is_remote_island or bool(postal_is_remote_island(postal_code)),
        )


def customer_create_for_user(*, user: Any) -> Customer:
    """The customer profile of an existing auth user (idempotent): for a user allauth has just
    signed up, which customer_create cannot serve since it makes the user too. Named after the
    email's local part until the customer enters a name."""
    customer, _created = Customer.objects.get_or_create(
        user=user, defaults={"name": (user.email or user.get_username()).split("@")[0][:100]}
    )
    return customer


def customer_set_language(*, user_id: int, language: str) -> bool:
    """Remember the language the user's customer uses the shop in (their emails follow it).

    A language the shop does not offer is ignored. Returns whether a row changed; a user without a
    customer profile (staff) changes nothing."""
    if language not in dict(LANGUAGE_CHOICES):
        return False
    return bool(Customer.objects.filter(user_id=user_id).exclude(language=language).update(language=language))
