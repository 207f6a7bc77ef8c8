"""CSV text for the back office, both ways, streamed. Pure: no Django.

Reading: UTF-8 with or without BOM, or Shift_JIS as Windows writes it (cp932), told apart from the
first bytes; a byte that is not in the file's encoding marks its row as undecodable instead of
failing the file. Writing: one encoded line at a time (flat memory for any number of rows); in cp932
a character it cannot hold (𠮷, emoji, …) becomes 〓 (げた, the mark Japanese printing uses for a
missing glyph) and is reported with its row and column — never an exception.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

BOM = codecs.BOM_UTF8
ENCODINGS = ("cp932", "utf-8")
REPLACEMENT = "〓"
_PEEK = 64 * 1024


def detect_encoding(head: bytes) -> str:
    """'utf-8-sig' for a BOM, 'utf-8' when the bytes are valid UTF-8 (a character cut at the end is
    fine), else 'cp932'."""
    if head.startswith(BOM):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_at_end = exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
        return "utf-8" if cut_at_end else "cp932"
    return "utf-8"


@dataclass
class CsvRow:
    number: int  # the header is row 1, as a spreadsheet numbers them
    cells: dict[str, str]
    decoded: bool = True


@dataclass
class CsvReader:
    """Rows of a CSV file as dicts keyed by the header (cells stripped), read lazily."""

    stream: BinaryIO
    encoding: str = "auto"
    header: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        raw = io.BufferedReader(self.stream) if not hasattr(self.stream, "peek") else self.stream
        if self.encoding == "auto":
            self.encoding = detect_encoding(raw.peek(_PEEK)[:_PEEK])
        elif self.encoding == "utf-8":
            self.encoding = "utf-8-sig"  # a BOM is never part of the first header
        self._text = io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
        self._reader = csv.reader(self._text)
        try:
            self.header = [name.strip() for name in next(self._reader)]
        except StopIteration:
            self.header = []

    def rows(self) -> Iterator[CsvRow]:
        number = 1
        for values in self._reader:
            number += 1
            if not any(v.strip() for v in values):
                continue
            cells = {name: value.strip() for name, value in zip(self.header, values, strict=False)}
            yield CsvRow(number=number, cells=cells, decoded=not any("\ufffd" in v for v in values))


@dataclass
class Replacement:
    row: int  # the header is row 1
    column: str
    characters: str  # the characters that were replaced, as they were


@dataclass
class EncodeReport:
    encoding: str
    rows: int = 0
    replacements: list[Replacement] = field(default_factory=list)
    # The first replacements are kept with their rows; all are counted.
    replaced_cells: int = 0
    keep: int = 1000

    def add(self, replacement: Replacement) -> None:
        self.replaced_cells += 1
        if len(self.replacements) < self.keep:
            self.replacements.append(replacement)


def _fit(value: str, encoding: str) -> tuple[str, str]:
    """(value as the encoding can hold it, the characters that had to go)."""
    try:
        value.encode(encoding)
    except UnicodeEncodeError:
        kept, lost = [], []
        for char in value:
            try:
                char.encode(encoding)
            except UnicodeEncodeError:
                kept.append(REPLACEMENT)
                lost.append(char)
            else:
                kept.append(char)
        return "".join(kept), "".join(lost)
    return value, ""


def csv_lines(
    header: list[str],
    rows: Iterable[Iterable[object]],
    *,
    encoding: str = "cp932",
    report: EncodeReport | None = None,
) -> Iterator[bytes]:
    """The CSV as encoded lines (CRLF, as Excel writes it); UTF-8 starts with a BOM for Excel."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}")
    report = report if report is not None else EncodeReport(encoding=encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: list[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue().encode(encoding)

    yield (BOM if encoding == "utf-8" else b"") + line([_fit(h, encoding)[0] for h in header])
    number = 1
    for values in rows:
        number += 1
        cells = []
        for column, value in zip(header, values, strict=True):
            text = "" if value is None else str(value)
            if encoding == "cp932":
                text, lost = _fit(text, encoding)
                if lost:
                    report.add(Replacement(row=number, column=column, characters=lost))
            cells.append(text)
        report.rows += 1
        yield line(cells)
