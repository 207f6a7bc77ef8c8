"""Trying a draft rule set before it goes live: on the orders of the last N days, and on the orders
the schedules will create in the next N days. Reads only; the forecast side generates its orders in
a transaction that is always rolled back.

The orders the schedules will create come from the nightly run's own generation (a dry run), which
lives in the scheduler, above this app: the scheduler registers it here when Django starts
(`forecast_source_register`), so the back office asks this module and never imports the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from ..models import Order
from . import engine
from .bulk import BATCH_SIZE, rules_evaluate, rules_for_run
from .facts import FactsLoader

EXAMPLES = 5

# (start date, days, callback(order ids)) -> the callback's result, run inside the rolled-back dry run.
ForecastSource = Callable[[date, int, Callable[[list[int]], Any]], Any]
_forecast_source: list[ForecastSource] = []


def forecast_source_register(source: ForecastSource) -> None:
    _forecast_source[:] = [source]


@dataclass(slots=True)
class Example:
    order_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    refused: list[engine.Message] = field(default_factory=list)
    mails: list[str] = field(default_factory=list)

    @property
    def number(self) -> str:
        return f"{self.order_id:08d}"


@dataclass(slots=True)
class RuleReport:
    index: int
    name: str
    built_in: bool = False
    matched: int = 0
    changed: int = 0
    examples: list[Example] = field(default_factory=list)


@dataclass(slots=True)
class SimulationReport:
    source: str  # "past" or "forecast"
    start: date
    end: date
    orders: int = 0
    changed: int = 0
    untouched: int = 0
    untouched_examples: list[int] = field(default_factory=list)
    rules: list[RuleReport] = field(default_factory=list)


def rules_simulate(
    *,
    rules: Sequence[engine.Rule],
    order_ids: Sequence[int],
    today: date,
    source: str,
    start: date,
    end: date,
) -> SimulationReport:
    """What `rules` (the draft, in order; the built-in pre-order rule goes first) would do to these
    orders, per rule: matched, changed, examples before → after; and the orders no rule touches."""
    walked = [
        replace(rule, id=index) for index, rule in enumerate(rules_for_run(rules, always_preorder=True))
    ]
    report = SimulationReport(source=source, start=start, end=end)
    report.rules = [RuleReport(index=i, name=r.name, built_in=i == 0) for i, r in enumerate(walked)]
    loader = FactsLoader(rules=walked, today=today)
    ids = sorted(order_ids)
    for begin in range(0, len(ids), BATCH_SIZE):
        for outcome in rules_evaluate(walked, loader.load(ids[begin : begin + BATCH_SIZE])):
            _tally(report, outcome)
    return report


def _tally(report: SimulationReport, outcome: engine.Outcome) -> None:
    report.orders += 1
    if outcome.changed:
        report.changed += 1
    if not outcome.applied:
        report.untouched += 1
        if len(report.untouched_examples) < EXAMPLES:
            report.untouched_examples.append(outcome.order_id)
        return
    for applied in outcome.applied:
        rule = report.rules[applied.rule_id]
        rule.matched += 1
        if applied.changed:
            rule.changed += 1
        if len(rule.examples) < EXAMPLES:
            rule.examples.append(
                Example(outcome.order_id, applied.before, applied.after, applied.refused, applied.mails)
            )


def rules_simulate_past(*, rules: Sequence[engine.Rule], days: int, today: date) -> SimulationReport:
    """On the orders created in the last `days` days (today included), as they stand now."""
    start = today - timedelta(days=days - 1)
    ids = list(
        Order.objects.filter(creation_date__gte=start, creation_date__lte=today).values_list("pk", flat=True)
    )
    return rules_simulate(rules=rules, order_ids=ids, today=today, source="past", start=start, end=today)


def rules_simulate_forecast(
    *, rules: Sequence[engine.Rule], days: int, today: date
) -> SimulationReport | None:
    """On the orders the nightly runs of the next `days` days would create (None: no source registered)."""
    if not _forecast_source:
        return None
    end = today + timedelta(days=days - 1)

    def evaluate(order_ids: list[int]) -> SimulationReport:
        return rules_simulate(
            rules=rules, order_ids=order_ids, today=today, source="forecast", start=today, end=end
        )

    return _forecast_source[0](today, days, evaluate)
