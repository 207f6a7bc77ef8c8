"""What every format module shares: a column table and a reader that turns cell errors into Problems.

A format module defines NAME, COLUMNS (name, what it holds; the README is written from them),
`read(rows)` yielding (SourceSubscription or None, problems) per subscription, and `write(record)`
returning the CSV rows of one subscription in the order of `header()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core.textio import CsvRow

from ..cells import CellError, text
from ..record import ENCODING, ERROR, Problem


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    meaning: str  # for the README and the admin help
    required: bool = False


class RowReader:
    """Cells of one CSV row; a cell that does not parse becomes a Problem and its default."""

    def __init__(self, row: CsvRow, problems: list[Problem], handle: str = ""):
        self.row = row
        self.problems = problems
        self.handle = handle
        if not row.decoded:
            problems.append(
                Problem(
                    row.number,
                    "",
                    "",
                    _(
                        "この行に、指定した文字コードで読めない文字があります。"
                        "Shift_JIS（cp932）のファイルをUTF-8として読んだ可能性があります。"
                        "文字コードを確かめて、もう一度お試しください。"
                    ),
                    handle=handle,
                    code=ENCODING,
                )
            )

    def raw(self, column: str) -> str:
        return text(self.row.cells.get(column))

    def get(self, column: str, parse: Callable[[str], Any] = text, default: Any = None) -> Any:
        value = self.row.cells.get(column) or ""
        try:
            return parse(value)
        except CellError as exc:
            self.fail(column, value, exc.message)
            return default

    def fail(self, column: str, value: str, message: str, severity: str = ERROR) -> None:
        self.problems.append(Problem(self.row.number, column, value, message, severity, self.handle))


def missing_columns(header: list[str], columns: list[Column]) -> list[Problem]:
    """A problem for each required column the header lacks (reported on row 1)."""
    present = set(header)
    return [
        Problem(1, column.name, "", _("必須の列「%(column)s」がありません。") % {"column": column.name})
        for column in columns
        if column.required and column.name not in present
    ]


def items_text(items: list[tuple[str, int]]) -> str:
    return ";".join(f"{sku}:{quantity}" for sku, quantity in items)
