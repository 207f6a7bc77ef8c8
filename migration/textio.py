"""CSV in and out, streamed: bytes are decoded a line at a time, so a file of any size is read in
flat memory, and a line that is not in the file's encoding is reported with its row, not fatal.

Pure: no Django. Encodings: UTF-8 with or without BOM, and Shift_JIS as Windows writes it (cp932).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

ENCODINGS = ("auto", "utf-8", "cp932")
BOM = codecs.BOM_UTF8
PEEK = 64 * 1024
# Fields longer than this are a broken file (an unclosed quote swallowing the rest), not data.
csv.field_size_limit(1024 * 1024)


def detect_encoding(head: bytes) -> str:
    """'utf-8' when the first bytes are valid UTF-8 (a character cut at the end is fine), else 'cp932'."""
    if head.startswith(BOM):
        return "utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "utf-8" if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data" else "cp932"
    return "utf-8"


@dataclass
class CsvRow:
    number: int  # the header is row 1
    cells: dict[str, str]
    decoded: bool = True  # False: some byte of this row was not in the file's encoding


@dataclass
class CsvSource:
    """Rows of a CSV file as dicts keyed by header, read lazily from a binary stream."""

    stream: BinaryIO
    encoding: str = "auto"
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
            cells = dict(zip(self.header, values, strict=False))
            yield CsvRow(number=number, cells=cells, decoded=decoded)


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
