"""Bulk writing with PostgreSQL's COPY (psycopg 3), shared by the apps' bulk.py modules.

COPY skips Django's per-object work and is several times faster than a multi-row INSERT. Elsewhere
(the SQLite demo) the apps fall back to bulk_create/bulk_update. NIGHTLY_WRITER ("auto", "copy",
"orm") forces one for tests and the bench.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

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
