"""The formats subscriptions are imported from and exported to; one mapping module each."""

from __future__ import annotations

from types import ModuleType

from django.utils.translation import gettext as _

from core.errors import DomainError

from . import native, shopify, woocommerce

FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (native, shopify, woocommerce)}


def get_format(name: str) -> ModuleType:
    module = FORMATS.get(name)
    if module is None:
        raise DomainError(
            "unknown_format",
            _("形式「%(name)s」には対応していません（%(known)s）。")
            % {"name": name, "known": ", ".join(FORMATS)},
        )
    return module
