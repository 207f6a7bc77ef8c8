"""Bulk writing with PostgreSQL's COPY (psycopg 3), shared by the apps' bulk.py modules.

COPY skips Django's per-object work and is several times faster than a multi-row INSERT. Elsewhere
(the SQLite demo) the apps fall back to bulk_create/bulk_update. NIGHTLY_WRITER ("auto", "copy",
"orm") forces one for tests and the bench.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.db.models import JSONField
from django.utils import timezone

# COPY's text format: these four characters are the only ones a text value must escape.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def use_copy() -> bool:
    choice = getattr(settings, "NIGHTLY_WRITER", "auto")
    if choice == "auto":
        return connection.vendor == "postgresql"
    return choice == "copy"


def copy_field(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def copy_text(table: str, columns: tuple[str, ...], text: str) -> None:
    """COPY rows already formatted as COPY text (tab-separated, escaped, one per line)."""
    if not text:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(text)


def copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        write = copy.write_row
        for row in rows:
            write(row)


def next_ids(table: str, count: int) -> list[int]:
    """Take `count` ids from the table's id sequence up front (rows written by COPY name theirs)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [r[0] for r in cursor.fetchall()]


def _column_defaults(model) -> list[tuple[str, str, object]]:  # noqa: ANN001
    """(attname, column, default) of every concrete column but the primary key; JSON encoded."""
    columns = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        default = f.get_default() if f.has_default() else (None if f.null else "")
        if isinstance(f, JSONField):
            default = json.dumps(default)
        columns.append((f.attname, f.column, default))
    return columns


def _json_attnames(model) -> frozenset[str]:  # noqa: ANN001
    return frozenset(f.attname for f in model._meta.concrete_fields if isinstance(f, JSONField))


def insert_rows(model, rows: list[dict]) -> list[int]:  # noqa: ANN001
    """The owning app's bulk.py inserts a batch of new rows of its own model with this.

    Insert `rows` (attname → value; the rest takes the field's default, auto_now fields now) and
    return their new ids in order. PostgreSQL: ids reserved from the sequence, then one COPY.
    Elsewhere (the SQLite demo): one INSERT … RETURNING per row."""
    if not rows:
        return []
    now = timezone.now()
    columns = _column_defaults(model)
    jsons = _json_attnames(model)
    auto_now = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    values = []
    for row in rows:
        out = []
        for attname, _column, default in columns:
            if attname in row:
                value = row[attname]
                out.append(json.dumps(value, ensure_ascii=False) if attname in jsons else value)
            else:
                out.append(now if attname in auto_now else default)
        values.append(out)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for _a, c, _d in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids = next_ids(model._meta.db_table, len(values))
            with cursor.cursor.copy(f"COPY {table} (id, {names}) FROM STDIN") as copy:
                for pk, out in zip(ids, values, strict=True):
                    copy.write_row((pk, *out))
            return ids
        marks = ", ".join(["%s"] * len(columns))
        ids = []
        for out in values:
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id", out)
            ids.append(cursor.fetchone()[0])
        return ids
