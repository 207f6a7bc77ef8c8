"""Shared by the migration tests: an empty shop (catalogue and policy kept) and a state snapshot."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from billing.models import PaymentMethod
from customers.models import Address, Customer
from migration.models import ImportedRecord
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionItem


def empty_shop() -> None:
    """Delete every customer and subscription, keeping products, courses, policy and staff."""
    ImportedRecord.objects.all().delete()
    SubscriptionEvent.objects.all().delete()
    SubscriptionItem.objects.all().delete()
    Subscription.objects.all().delete()
    PaymentMethod.objects.all().delete()
    Address.objects.all().delete()
    users = list(Customer.objects.values_list("user_id", flat=True))
    Customer.objects.all().delete()
    EmailAddress.objects.filter(user_id__in=users).delete()
    get_user_model().objects.filter(pk__in=users, is_staff=False).delete()
