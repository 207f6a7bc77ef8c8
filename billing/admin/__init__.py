"""Billing admin, one module per concern; importing each registers its ModelAdmins."""

from . import pricing  # noqa: F401
