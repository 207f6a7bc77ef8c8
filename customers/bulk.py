"""Customers and addresses created in bulk: the set-based versions of customer_create and
address_create, for imports (one COPY per table on PostgreSQL).

A bulk-created customer is what customer_create makes for someone who has not signed up yet: an
auth user with an unusable password, an unverified primary allauth e-mail row, and the profile.
The caller has already checked the batch (unique e-mails, known groups).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from core.copy import insert_rows

from .models import Address, Customer
from .services import normalise_postal_code

CUSTOMER_FIELDS = ("name", "name_kana", "phone", "group_id", "is_blacklisted", "stripe_customer_id")
ADDRESS_FIELDS = (
    "customer_id",
    "recipient_name",
    "postal_code",
    "prefecture",
    "city",
    "line1",
    "line2",
    "phone",
    "is_remote_island",
    "is_invalid",
    "is_default",
)


def customers_bulk_create(*, customers: list[dict]) -> list[int]:
    """Create one customer per dict (`email` plus any of CUSTOMER_FIELDS); their ids in order."""
    if not customers:
        return []
    emails = [c["email"].strip().lower() for c in customers]
    user_ids = insert_rows(
        get_user_model(),
        [{"username": e, "email": e, "password": "!", "is_active": True} for e in emails],
    )
    insert_rows(
        EmailAddress,
        [
            {"user_id": u, "email": e, "verified": False, "primary": True}
            for u, e in zip(user_ids, emails, strict=True)
        ],
    )
    rows = [
        {"user_id": u, "is_member": True, **{k: c[k] for k in CUSTOMER_FIELDS if k in c}}
        for u, c in zip(user_ids, customers, strict=True)
    ]
    return insert_rows(Customer, rows)


def addresses_bulk_create(*, addresses: list[dict]) -> list[int]:
    """Create one address per dict (ADDRESS_FIELDS; the postal code is normalised as
    address_create does); their ids in order."""
    rows = []
    for address in addresses:
        unknown = set(address) - set(ADDRESS_FIELDS)
        if unknown:
            raise ValueError(f"addresses_bulk_create: unknown fields {sorted(unknown)}")
        rows.append({**address, "postal_code": normalise_postal_code(address.get("postal_code", ""))})
    return insert_rows(Address, rows)


def customers_bulk_set_stripe_customer(*, stripe_ids: dict[int, str]) -> None:
    """Customers with no Stripe customer yet take the one given (never overwrite a linked one)."""
    for pk, stripe_id in stripe_ids.items():
        Customer.objects.filter(pk=pk, stripe_customer_id="").update(stripe_customer_id=stripe_id)
