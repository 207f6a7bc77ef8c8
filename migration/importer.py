"""Import subscriptions from a CSV file: streamed in batches, checked, resolved, written set-based.

A dry run does everything but the writes (Stripe cards are checked too: those calls only read), so
its report — every problem with row, column, value and a message, and what would be created,
updated or skipped — is what the real import will do with the same file and database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import BinaryIO

from django.utils.translation import gettext as _

from core.textio import CsvSource
from subscriptions.actors import Actor

from .bulk_writes import subscription_import_update, subscriptions_bulk_import
from .checks import record_problems
from .formats import get_format
from .record import ENCODING, ERROR, WARNING, Problem, SourceSubscription
from .resolve import CREATE, SKIP, UPDATE, plan_batch

BATCH = 2000
# Problems kept for the report; beyond it only counted, so a broken 10 GB file stays in memory.
PROBLEM_LIMIT = 10_000


@dataclass
class ImportReport:
    format: str
    dry_run: bool
    encoding: str = ""
    subscriptions: int = 0  # subscriptions read (rows grouped by handle)
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0  # left out because of an error
    needs_attention: int = 0  # imported (or would be) with a card Stripe could not verify
    problems: list[Problem] = field(default_factory=list)
    problems_not_shown: int = 0

    def add(self, problem: Problem) -> None:
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(problem)
        else:
            self.problems_not_shown += 1

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def summary(self) -> str:
        values = {
            "read": self.subscriptions,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": self.failed,
            "attention": self.needs_attention,
        }
        if self.dry_run:
            text = _(
                "確認のみ（何も書き込んでいません）: %(read)d件中、作成予定 %(created)d件、更新予定 %(updated)d件、"
                "変更なし %(skipped)d件、エラーで取り込めない %(failed)d件、要対応で取り込む %(attention)d件"
            )
        else:
            text = _(
                "取り込み完了: %(read)d件中、作成 %(created)d件、更新 %(updated)d件、変更なし %(skipped)d件、"
                "エラーで取り込まなかった %(failed)d件、要対応で取り込んだ %(attention)d件"
            )
        return text % values


def _batches(iterable: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(iterable, size)):
        yield batch


class _DuplicateGuard:
    """The first row of a handle wins; a later row with the same handle and another body is an error."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, int]] = {}

    def check(self, record: SourceSubscription, columns: dict[str, str]) -> Problem | None | bool:
        body = record.body_hash()
        first = self.seen.get(record.handle)
        if first is None:
            self.seen[record.handle] = (body, record.row)
            return None
        if first[0] == body:
            return True  # an identical repeat: nothing to do
        return Problem(
            record.row,
            columns.get("handle", "handle"),
            record.handle,
            _("この番号（handle）は%(row)d行目にもあり、内容が違います。どちらが正しいか確かめてください。")
            % {"row": first[1]},
            handle=record.handle,
        )


def subscriptions_import(
    *,
    stream: BinaryIO,
    format: str,
    dry_run: bool,
    encoding: str = "auto",
    actor: Actor | None = None,
    batch_size: int = BATCH,
) -> ImportReport:
    """Read `stream` in the given format and import (or, with dry_run, only check) every subscription."""
    module = get_format(format)
    actor = actor or Actor.system()
    source = CsvSource(stream, encoding)
    report = ImportReport(format=format, dry_run=dry_run, encoding=source.encoding)
    header_problems = module.missing_columns(source.header)
    if header_problems:
        for problem in header_problems:
            report.add(problem)
        return report
    guard = _DuplicateGuard()
    for batch in _batches(module.read(source.rows()), batch_size):
        _import_batch(batch, module, guard, report, dry_run=dry_run, actor=actor)
    report.problems.sort(key=lambda p: p.row)  # stable: a row's problems keep their order
    return report


def _import_batch(batch, module, guard, report: ImportReport, *, dry_run: bool, actor: Actor) -> None:  # noqa: ANN001
    columns = module.FIELD_COLUMNS
    candidates: list[SourceSubscription] = []
    for record, problems in batch:
        report.subscriptions += 1
        problems = list(problems)
        unreadable = any(p.code == ENCODING for p in problems)
        if record is not None and not unreadable:  # garbled text would only add misleading errors
            problems.extend(record_problems(record, columns))
            duplicate = guard.check(record, columns) if not problems else None
            if duplicate is True:
                report.subscriptions -= 1
                continue
            if isinstance(duplicate, Problem):
                problems.append(duplicate)
        for problem in problems:
            report.add(problem)
        if record is None or any(p.severity == ERROR for p in problems):
            report.failed += 1
        else:
            candidates.append(record)
    if not candidates:
        return
    found: list[Problem] = []
    plans = plan_batch(candidates, source=format_name(module), columns=columns, problems=found)
    for problem in found:
        report.add(problem)
    report.failed += len(candidates) - len(plans)
    report.needs_attention += sum(1 for p in found if p.severity == WARNING)
    creates = [p for p in plans if p.action == CREATE]
    updates = [p for p in plans if p.action == UPDATE]
    report.skipped += sum(1 for p in plans if p.action == SKIP)
    report.created += len(creates)
    report.updated += len(updates)
    if dry_run:
        return
    if creates:
        subscriptions_bulk_import(plans=creates, source=format_name(module), actor=actor)
    for plan in updates:
        subscription_import_update(plan=plan, source=format_name(module), actor=actor)


def format_name(module) -> str:  # noqa: ANN001
    return module.NAME
