"""Model instances from hand-written SELECTs, for the few hot reads where building the query costs more
than running it.

The ORM compiles every queryset anew: for the my page's subscription (five joined tables, about 80
columns) that was most of the request's CPU, the database's own work a small part. A `ModelColumns`
knows one model's columns under one table alias, computed once per process; a selector writes the
FROM and WHERE itself, selects `columns.sql`, and `columns.build` turns its slice of each row into an
instance exactly as the ORM does (the same database converters: JSON, SQLite dates and decimals),
marked as loaded from the database. The SQL stays portable (double-quoted names, `%s` parameters):
SQLite in the embedded default, PostgreSQL in production.

Selectors use it for reads of their own app's tables (and the joins the ORM would have made), never
as a way around another app's selectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Model


def _quote(name: str) -> str:
    return f'"{name}"'


class ModelColumns:
    """The concrete columns of `model` as `alias."column", …` and the instance built from them."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = tuple(field.attname for field in self.fields)
        self.width = len(self.fields)
        self.sql = ", ".join(f"{_quote(alias)}.{_quote(field.column)}" for field in self.fields)
        self.table = f"{_quote(model._meta.db_table)} {_quote(alias)}"
        self._converters: dict[str, list[tuple[int, list[Any], Any]]] = {}

    def column(self, field_name: str) -> str:
        """`alias."column"` of one field, for WHERE and JOIN clauses."""
        return f"{_quote(self.alias)}.{_quote(self.model._meta.get_field(field_name).column)}"

    def order_by(self) -> str:
        """The model's Meta.ordering as an ORDER BY list (plain field names, '-' for descending)."""
        terms = []
        for name in self.model._meta.ordering:
            descending = name.startswith("-")
            terms.append(f"{self.column(name.lstrip('-'))}{' DESC' if descending else ''}")
        return ", ".join(terms)

    def _converters_for(self, alias: str) -> list[tuple[int, list[Any], Any]]:
        """(position, converters, expression) for the columns that have converters on this database,
        as the ORM's compiler collects them (backend's first, then the field's)."""
        found = self._converters.get(alias)
        if found is None:
            connection = connections[alias]
            found = []
            for position, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                    connection
                )
                if converters:
                    found.append((position, converters, expression))
            self._converters[alias] = found
        return found

    def build(self, row: Sequence[Any], start: int = 0, using: str = "default") -> Any:
        """The instance for `row[start:start + width]`, as a queryset would have returned it."""
        values = list(row[start : start + self.width])
        converters = self._converters_for(using)
        if converters:
            connection = connections[using]
            for position, functions, expression in converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
        return self.model.from_db(using, self.attnames, values)


def fetch(sql: str, params: Sequence[Any], using: str = "default") -> list[tuple[Any, ...]]:
    """All rows of one hand-written SELECT."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
