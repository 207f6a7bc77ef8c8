"""CSV text both ways, streamed, for every app that reads or writes CSV files (the back office's
order updates and exports, the platform migration's imports and exports). Pure: no Django.

Reading: UTF-8 with or without BOM, or Shift_JIS as Windows writes it (cp932), told apart from the
first bytes (detect_encoding); bytes are decoded a line at a time, so a file of any size is read in
flat memory, and a line that is not in the file's encoding marks its row as undecodable instead of
failing the file. Writing: one encoded line at a time; in cp932 a character it cannot hold (𠮷, emoji,
…) becomes 〓 (げた, the mark Japanese printing uses for a missing glyph) and is reported with its row
and column — never an exception.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

BOM = codecs.BOM_UTF8
ENCODINGS = ("auto", "utf-8", "cp932")  # what a reader accepts
WRITE_ENCODINGS = ("cp932", "utf-8")
REPLACEMENT = "〓"
PEEK = 64 * 1024
# Fields longer than this are a broken file (an unclosed quote swallowing the rest), not data.
csv.field_size_limit(1024 * 1024)


def detect_encoding(head: bytes) -> str:
    """'utf-8' for a BOM or when the first bytes are valid UTF-8 (a character cut at the end is
    fine), else 'cp932'. The reader drops the BOM itself."""
    if head.startswith(BOM):
        return "utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_at_end = exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
        return "utf-8" if cut_at_end else "cp932"
    return "utf-8"


@dataclass
class CsvRow:
    number: int  # the header is row 1
    cells: dict[str, str]
    decoded: bool = True  # False: some byte of this row was not in the file's encoding


@dataclass
class CsvSource:
    """Rows of a CSV file as dicts keyed by header (names stripped), read lazily from a binary stream."""

    stream: BinaryIO
    encoding: str = "auto"
    # Strip spaces around every cell (the back office's update files: staff type into Excel).
    strip: bool = False
    header: list[str] = field(default_factory=list)
    _bad_lines: set[int] = field(default_factory=set)
    _line: int = 0
    _head: bytes = b""

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}")
        self._head = self.stream.read(PEEK)
        if self.encoding == "auto":
            self.encoding = detect_encoding(self._head)
        self._reader = csv.reader(self._lines())
        try:
            self.header = [name.strip() for name in next(self._reader)]
        except StopIteration:
            self.header = []

    def _raw_lines(self) -> Iterator[bytes]:
        pending = self._head
        while True:
            chunk = self.stream.read(PEEK)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"
        if pending:
            *lines, pending = pending.split(b"\n")
            yield from (line + b"\n" for line in lines)
            if pending:
                yield pending

    def _lines(self) -> Iterator[str]:
        for raw in self._raw_lines():
            self._line += 1
            if self._line == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                yield raw.decode(self.encoding)
            except UnicodeDecodeError:
                self._bad_lines.add(self._line)
                yield raw.decode(self.encoding, errors="replace")

    def rows(self) -> Iterator[CsvRow]:
        reader = self._reader
        number = 1
        last_line = self._line
        for values in reader:
            number += 1
            first_line, last_line = last_line + 1, self._line
            if not any(v.strip() for v in values):
                continue
            decoded = not any(first_line <= n <= last_line for n in self._bad_lines)
            if self.strip:
                values = [v.strip() for v in values]
            cells = dict(zip(self.header, values, strict=False))
            yield CsvRow(number=number, cells=cells, decoded=decoded)


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
    if encoding not in WRITE_ENCODINGS:
        raise ValueError(f"encoding must be one of {WRITE_ENCODINGS}")
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


def write_csv(out: BinaryIO, header: list[str], rows: Iterable[list[str]], *, encoding: str = "utf-8") -> int:
    """Write rows as they come; UTF-8 gets a BOM so spreadsheet programs read it right. Returns rows."""
    if encoding == "utf-8":
        out.write(BOM)
    text = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()
    return count
