"""Model bases shared by every app (abstract: no table, no migration)."""

from __future__ import annotations

from typing import Self

from django.db import models


class SingletonModel(models.Model):
    """A shop settings page: one row (pk=1), created with its defaults the first time it is read."""

    class Meta:
        abstract = True

    @classmethod
    def current(cls) -> Self:
        row, _created = cls.objects.get_or_create(pk=1)
        return row
