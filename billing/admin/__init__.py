"""Billing admin, one module per concern; importing each registers its ModelAdmins."""

from . import payments  # noqa: F401
