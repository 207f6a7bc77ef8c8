"""`manage.py preview_schedule`: prints a schedule, never touches the database.

None of these tests asks for the `db` fixture, so pytest-django fails any of them that queries the
database; the subprocess runs point DATABASE_URL at a port where nothing listens.
"""

import os
import shlex
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from subscriptions.calendar import BusinessCalendar
from subscriptions.cycles import LAST, Cycle
from subscriptions.management.commands.preview_schedule import (
    OptionError,
    PreviewRequest,
    parse_options,
    render,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

BAD_ARGUMENTS = [
    ("--first 2027-01-31 --every 1 --unit year --count 2", "--unit must be day, week or month"),
    ("--first 2027-01-31 --every 1 --unit month --day 32 --count 2", "--day must be 1-31 or last"),
    ("--first 2027-01-31 --every 1 --unit month --day 0 --count 2", "--day must be 1-31 or last"),
    ("--first 2027-01-31 --every 1 --unit month --day first --count 2", "--day must be 1-31 or last"),
    ("--first 2027-01-31 --every 1 --unit month --nth 2 --count 2", "--nth needs --weekday"),
    ("--first 2027-01-31 --every 1 --unit month --weekday mon --count 2", "--weekday needs --nth"),
    (
        "--first 2027-01-31 --every 1 --unit month --nth 5 --weekday mon --count 2",
        "--nth must be 1-4 or last",
    ),
    (
        "--first 2027-01-31 --every 1 --unit month --day 5 --nth 1 --weekday mon --count 2",
        "--day and --nth cannot be combined",
    ),
    ("--first 2027-01-31 --every 1 --unit week --day 5 --count 2", "--day needs --unit month"),
    ("--first 2027-01-31 --every 1 --unit day --nth 1 --weekday mon --count 2", "--nth needs --unit month"),
    ("--first 2027-01-31 --every 1 --unit month --count 0", "--count must be 1-1000"),
    ("--first 2027-01-31 --every 1 --unit month --count -3", "--count must be 1-1000"),
    ("--first 2027-01-31 --every 1 --unit month --count 1001", "--count must be 1-1000"),
    ("--first 2027-01-31 --every 1 --unit month --count two", "--count must be 1-1000"),
    ("--first 2027-02-30 --every 1 --unit month --count 2", "--first must be a date (YYYY-MM-DD)"),
    ("--first 2027/01/31 --every 1 --unit month --count 2", "--first must be a date (YYYY-MM-DD)"),
    ("--first 2027-01-31 --every 1 --unit month --lead-days -1 --count 2", "--lead-days must be 0-365"),
    (
        "--first 2027-01-31 --every 1 --unit month --nth 1 --weekday funday --count 2",
        "--weekday must be one of mon, tue, wed, thu, fri, sat, sun",
    ),
    (
        "--first 2027-01-31 --every 1 --unit month --closed-weekdays sat,funday --count 2",
        "--closed-weekdays must be a comma-separated list of mon, tue, wed, thu, fri, sat, sun",
    ),
    (
        "--first 2027-01-31 --every 1 --unit month --skip 0 --count 2",
        "--skip must be sequence numbers of 1 or more",
    ),
    ("--first 2027-01-31 --every 0 --unit month --count 2", "--every must be 1-24 for --unit month"),
    ("--first 2027-01-31 --every 25 --unit month --count 2", "--every must be 1-24 for --unit month"),
    ("--first 2027-01-31 --every 53 --unit week --count 2", "--every must be 1-52 for --unit week"),
    ("--first 2027-01-31 --every 1 --unit month", "the following arguments are required: --count"),
    (
        "--first 2027-01-31 --every 1 --unit month --count 2 --frobnicate",
        "unrecognized arguments: --frobnicate",
    ),
    # Errors found while computing, not while parsing, take the same one-line path.
    (
        "--first 2027-01-31 --every 1 --unit day --closed-weekdays mon,tue,wed,thu,fri,sat,sun --count 2",
        "no open day",
    ),
    ("--first 9999-11-30 --every 1 --unit month --count 3", "out of range"),
]


def preview(args: str) -> str:
    out = StringIO()
    call_command("preview_schedule", *shlex.split(args), stdout=out)
    return out.getvalue()


# --- output ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "--first 2027-01-31 --every 1 --unit month --lead-days 5 --skip 2 --count 2",
            "1 2027-01-31 2027-01-26\n2 2027-02-28 2027-02-23 skipped\n",
        ),
        (
            "--first 2027-04-06 --every 1 --unit month --lead-days 3 --closed-weekdays sat,sun --jp-holidays --count 3",
            "1 2027-04-06 2027-04-01\n2 2027-05-06 2027-04-27\n3 2027-06-06 2027-06-02\n",
        ),
        (
            "--first 2027-01-29 --every 1 --unit month --nth last --weekday fri --count 3",
            "1 2027-01-29 2027-01-29\n2 2027-02-26 2027-02-26\n3 2027-03-26 2027-03-26\n",
        ),
        (
            "--first 2027-01-15 --every 1 --unit month --day last --count 3",
            "1 2027-01-15 2027-01-15\n2 2027-02-28 2027-02-28\n3 2027-03-31 2027-03-31\n",
        ),
        (
            "--first 2027-01-08 --every 2 --unit week --lead-days 1 --closed-weekdays SAT,Sun --skip 2 --skip 3 --count 3",
            "1 2027-01-08 2027-01-07\n2 2027-01-22 2027-01-21 skipped\n3 2027-02-05 2027-02-04 skipped\n",
        ),
        (
            "--first 2027-12-30 --every 3 --unit day --lead-days 2 --skip 1 3 --count 3",
            "1 2027-12-30 2027-12-28 skipped\n2 2028-01-02 2027-12-31\n3 2028-01-05 2028-01-03 skipped\n",
        ),
    ],
)
def test_prints_one_line_per_sequence(args, expected):
    assert preview(args) == expected


def test_defaults_are_no_lead_days_no_closed_days_and_no_holidays():
    # 2027-01-01 is 元日 and a Friday; 2027-01-02 a Saturday: all open by default.
    assert preview("--first 2027-01-01 --every 1 --unit day --count 2") == (
        "1 2027-01-01 2027-01-01\n2 2027-01-02 2027-01-02\n"
    )


# --- bad arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS)
def test_bad_arguments_raise_a_command_error_from_call_command(args, message):
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("preview_schedule", *shlex.split(args), stdout=out)

    assert message in str(raised.value)
    assert raised.value.returncode == 2
    assert out.getvalue() == ""


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS)
def test_bad_arguments_print_exactly_one_line_from_the_command_line(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "preview_schedule", *shlex.split(args)])

    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.out == ""
    assert captured.err.startswith("preview_schedule: error: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n")


# --- a real process ------------------------------------------------------------------------------------


def run_manage_py(args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing-listens-here",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "preview_schedule", *shlex.split(args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_py_prints_the_schedule():
    result = run_manage_py("--first 2027-01-31 --every 1 --unit month --lead-days 5 --skip 2 --count 2")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "1 2027-01-31 2027-01-26\n2 2027-02-28 2027-02-23 skipped\n"


@pytest.mark.parametrize(
    ("args", "expected_stderr"),
    [
        (
            "--first 2027-01-31 --every 1 --unit month --day 32 --count 2",
            "preview_schedule: error: --day must be 1-31 or last\n",
        ),
        (
            "--first 2027-01-31 --every 1 --unit month --count 2 --frobnicate",
            "preview_schedule: error: unrecognized arguments: --frobnicate\n",
        ),
        (
            "--first 2027-01-31 --every 1 --unit day --closed-weekdays mon,tue,wed,thu,fri,sat,sun --count 2",
            "preview_schedule: error: no open day within 400 days on or before 2027-01-31\n",
        ),
    ],
)
def test_manage_py_bad_arguments_exit_2_with_one_line_on_stderr(args, expected_stderr):
    result = run_manage_py(args)

    assert (result.returncode, result.stdout, result.stderr) == (2, "", expected_stderr)


# --- the parsing and printing functions, without Django's machinery ---------------------------------------


def test_parse_options_builds_the_request():
    request = parse_options(
        {
            "first": "2027-01-31",
            "every": "2",
            "unit": "month",
            "nth": "last",
            "weekday": "Sun",
            "lead_days": "3",
            "closed_weekdays": "sat,sun",
            "jp_holidays": True,
            "skip": ["2", "5"],
            "count": "4",
        }
    )

    assert request == PreviewRequest(
        cycle=Cycle(unit="month", interval=2, nth_week=LAST, weekday=6),
        first=date(2027, 1, 31),
        count=4,
        calendar=BusinessCalendar(closed_weekdays=frozenset({5, 6}), jp_holidays=True),
        lead_days=3,
        skipped=frozenset({2, 5}),
    )


def test_parse_options_accepts_already_typed_values_from_call_command_keywords():
    request = parse_options(
        {"first": "2027-01-31", "every": 1, "unit": "day", "count": 3, "lead_days": 2, "skip": [2]}
    )

    assert (request.count, request.lead_days, request.skipped) == (3, 2, frozenset({2}))


def test_parse_options_reports_the_first_problem():
    with pytest.raises(OptionError, match="--day must be 1-31 or last"):
        parse_options({"first": "2027-01-31", "every": "1", "unit": "month", "day": "32", "count": "1"})


def test_render_starts_at_sequence_one_on_the_first_date():
    request = parse_options(
        {"first": "2027-01-31", "every": "1", "unit": "month", "lead_days": "5", "count": "2"}
    )

    assert render(request) == "1 2027-01-31 2027-01-26\n2 2027-02-28 2027-02-23\n"
