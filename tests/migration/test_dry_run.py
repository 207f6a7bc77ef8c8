"""A dry run on a file full of broken rows: every problem reported with row, column, value and a
message in words, a correct summary, and nothing written anywhere."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billing.models import PaymentMethod
from customers.models import Address, Customer
from migration.importer import subscriptions_import
from migration.models import ImportedRecord
from migration.record import ERROR, WARNING
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionItem

from .files import native_csv, row

MODELS = [get_user_model(), EmailAddress, Customer, Address, PaymentMethod, Subscription, SubscriptionItem,
          SubscriptionEvent, ImportedRecord]  # fmt: skip


def _counts() -> list[int]:
    return [model.objects.count() for model in MODELS]


def _broken_file(stripe_customer: str) -> bytes:
    return native_csv(
        [
            row(),  # 2: fine
            row(handle="S-3", items="NOPE-1:1"),  # 3: unknown SKU
            row(handle="S-4", next_delivery_date="2027/02/xx"),  # 4: not a date
            row(handle="S-5", next_delivery_date="2027-02-30"),  # 5: Feb 30
            row(handle="S-6", cycle_unit="fortnight"),  # 6: unknown cycle unit
            row(handle="S-7", postal_code=""),  # 7: no postal code
            row(handle="S-8", payment_kind="card", stripe_customer_id=stripe_customer,
                stripe_payment_method_id="pm_unknown_to_stripe"),  # 8: a card Stripe does not know
            row(handle="S-1", time_slot="19-21"),  # 9: the handle of row 2 with another body
            row(handle="S-10", course_code="nope-teiki"),  # 10: unknown course
            row(handle="S-11", prefecture="東京"),  # 11: not a prefecture
            row(handle="S-12", skipped_dates="2027-03-01"),  # 12: a skip off the schedule (the 15th)
            row(handle="S-13", email="not-an-email"),  # 13: not an e-mail address
            row(handle="S-14", cycle_interval="30"),  # 14: every 30 months
        ]
    )  # fmt: skip


def _problems(report) -> dict[int, tuple[str, str, str, str]]:  # noqa: ANN001
    return {p.row: (p.severity, p.column, p.value, p.message) for p in report.problems}


def test_a_dry_run_reports_every_broken_row_and_writes_nothing(shop, stripe_settings, localstripe) -> None:  # noqa: ANN001
    # given a file with a good row and twelve kinds of broken one (one a card Stripe does not know)
    stripe_customer = localstripe.client().v1.customers.create(params={"email": "yamada@example.jp"}).id
    data = _broken_file(stripe_customer)
    before = _counts()

    # when it is imported as a dry run
    report = subscriptions_import(stream=io.BytesIO(data), format="native", dry_run=True)

    # then each broken row has its problem, in words, with its column and value
    problems = _problems(report)
    assert sorted(problems) == list(range(3, 15))
    assert problems[3] == (ERROR, "items", "NOPE-1", "SKU「NOPE-1」の商品がありません。")
    assert problems[4] == (
        ERROR,
        "next_delivery_date",
        "2027/02/xx",
        "日付の形式が正しくありません（例: 2027-01-31）。",
    )
    assert problems[5] == (
        ERROR, "next_delivery_date", "2027-02-30", "2027年2月に30日はありません（この月は28日までです）。",
    )  # fmt: skip
    assert problems[6][:3] == (ERROR, "cycle_unit", "fortnight")
    assert "周期の単位「fortnight」は使えません" in problems[6][3]
    assert problems[7] == (ERROR, "postal_code", "", "郵便番号が空です。")
    assert problems[8][:3] == (WARNING, "stripe_payment_method_id", "pm_unknown_to_stripe")
    assert "Stripe にこのカードが見つかりません。" in problems[8][3] and "要対応" in problems[8][3]
    assert problems[9][:3] == (ERROR, "handle", "S-1") and "2行目にもあり" in problems[9][3]
    assert problems[10] == (
        ERROR,
        "course_code",
        "nope-teiki",
        "コースコード「nope-teiki」の定期コースがありません。",
    )
    assert problems[11][:3] == (ERROR, "prefecture", "東京")
    assert problems[12] == (
        ERROR, "skipped_dates", "2027-03-01", "スキップ日2027-03-01はこの周期のお届け日ではありません。",
    )  # fmt: skip
    assert problems[13][:2] == (ERROR, "email")
    assert problems[14] == (ERROR, "cycle_interval", "30", "この単位の周期の間隔は1から24までです。")
    # and the summary says what the real import would do
    assert (report.subscriptions, report.created, report.updated, report.skipped) == (13, 2, 0, 0)
    assert (report.failed, report.needs_attention) == (11, 1)
    # and nothing was written
    assert _counts() == before


def test_a_cp932_file_read_as_utf8_is_reported_row_by_row(shop) -> None:  # noqa: ANN001
    # given a Shift_JIS file
    data = native_csv([row(handle="A-1"), row(handle="A-2")], encoding="cp932")
    before = _counts()

    # when it is read as UTF-8
    report = subscriptions_import(stream=io.BytesIO(data), format="native", dry_run=True, encoding="utf-8")

    # then each row is reported once as unreadable in that encoding, and nothing is written
    assert [(p.row, p.column, p.code) for p in report.problems] == [(2, "", "encoding"), (3, "", "encoding")]
    assert "Shift_JIS（cp932）のファイルをUTF-8として読んだ可能性があります" in report.problems[0].message
    assert (report.created, report.failed) == (0, 2)
    assert _counts() == before


def test_a_file_without_a_required_column_is_refused_on_row_one(shop) -> None:  # noqa: ANN001
    data = b"handle,email\r\nS-1,a@example.jp\r\n"
    report = subscriptions_import(stream=io.BytesIO(data), format="native", dry_run=True)
    assert report.subscriptions == 0
    assert {(p.row, p.column) for p in report.problems} >= {(1, "course_code"), (1, "next_delivery_date")}
    assert all(p.message.startswith("必須の列「") for p in report.problems)


def test_the_command_prints_the_report_and_fails_on_errors(shop, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "broken.csv"
    path.write_bytes(native_csv([row(), row(handle="S-2", items="NOPE-1:1")]))
    out = io.StringIO()
    before = _counts()
    with pytest.raises(CommandError, match="作成予定 1件"):
        call_command("import_subscriptions", str(path), "--format", "native", "--dry-run", stdout=out)
    assert "3行目 [エラー] 列「items」 値「NOPE-1」: SKU「NOPE-1」の商品がありません。" in out.getvalue()
    assert _counts() == before


def test_the_report_is_in_english_for_an_english_admin(shop) -> None:  # noqa: ANN001
    from django.utils import translation

    data = native_csv([row(), row(handle="S-2", items="NOPE-1:1")])
    with translation.override("en"):
        report = subscriptions_import(stream=io.BytesIO(data), format="native", dry_run=True)
        summary = report.summary()
    assert report.problems[0].message == 'No product has the SKU "NOPE-1".'
    assert summary.startswith("Dry run (nothing written): of 2, 1 would be created")
