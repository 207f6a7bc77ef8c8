"""The import report as lines of text (the command prints them; the admin shows a table)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from .importer import ImportReport
from .record import ERROR


def report_lines(report: ImportReport) -> Iterator[str]:
    yield _("形式: %(format)s  文字コード: %(encoding)s") % {
        "format": report.format,
        "encoding": report.encoding,
    }
    for p in report.problems:
        level = _("エラー") if p.severity == ERROR else _("要対応")
        yield _("%(row)d行目 [%(level)s] 列「%(column)s」 値「%(value)s」: %(message)s") % {
            "row": p.row,
            "level": level,
            "column": p.column or "-",
            "value": p.value,
            "message": p.message,
        }
    if report.problems_not_shown:
        yield _("ほかに%(count)d件の問題があります（表示を省略しました）。") % {
            "count": report.problems_not_shown
        }
