"""一括更新 by CSV: encodings detected, dry run reports and writes nothing, apply is idempotent."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice.order_updates import order_updates_import
from notifications.models import Notification
from orders.mails import order_ref
from orders.models import Order, OrderEvent, OrderStatus
from tests.backoffice.helpers import shop_order

pytestmark = pytest.mark.django_db

HEADER = "受注番号,対応状況,発送日,配送業者,配送伝票番号\r\n"


def _csv(rows: list[str], encoding: str = "cp932", bom: bool = False) -> io.BytesIO:
    data = (HEADER + "".join(r + "\r\n" for r in rows)).encode(encoding)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


@pytest.mark.parametrize(
    ("encoding", "bom", "detected"),
    [("cp932", False, "cp932"), ("utf-8", False, "utf-8"), ("utf-8", True, "utf-8")],
)
def test_each_encoding_is_detected_and_the_dry_run_writes_nothing(encoding, bom, detected) -> None:  # noqa: ANN001
    order = shop_order()
    before = Order.objects.get(pk=order.pk)
    report = order_updates_import(
        stream=_csv([f"{order.number},発送済み,2027/03/12,ヤマト運輸,1234-5678-9012"], encoding, bom),
        dry_run=True,
    )
    assert report.encoding == detected
    assert report.errors == []
    assert report.rows[0].changes == [
        ("配送業者", "", "ヤマト運輸"),
        ("配送伝票番号", "", "1234-5678-9012"),
        ("発送日", "", "2027-03-12"),
        ("対応状況", "出荷準備中", "発送済み"),
    ]
    after = Order.objects.get(pk=order.pk)
    assert (after.status, after.tracking_number, after.updated_at) == (before.status, "", before.updated_at)
    assert not OrderEvent.objects.filter(order=order).exists()
    assert not Notification.objects.exists()


def test_every_error_has_its_row_column_and_message() -> None:
    shipped = shop_order(status=OrderStatus.NEW)
    ok = shop_order()
    report = order_updates_import(
        stream=_csv(
            [
                "99999999,発送済み,,,",  # row 2: no such order
                f"{shipped.number},発送済み,2027-02-30,西濃,ABC!",  # row 3: four errors
                f"{ok.number},届いた,,,",  # row 4: unknown status
                f"{ok.number},,,,",  # row 5: same order twice
                "abc,,,,",  # row 6: not a number
                f"{shop_order().number},発送済み,,,",  # row 7: shipped without a tracking number
            ]
        ),
        dry_run=True,
    )
    got = [(e.row, e.column) for e in report.errors]
    assert got == [
        (2, "受注番号"),
        (3, "配送業者"),
        (3, "配送伝票番号"),
        (3, "発送日"),
        (3, "対応状況"),
        (4, "対応状況"),
        (5, "受注番号"),
        (6, "受注番号"),
        (7, "配送伝票番号"),
    ]
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "「新規受付」から「発送済み」" in messages[(3, "対応状況")]
    assert "4行目" in messages[(5, "受注番号")]


def test_apply_ships_with_one_mail_and_the_same_file_again_changes_nothing(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:  # noqa: ANN001
    orders = [shop_order(), shop_order()]
    rows = [f"{o.number},発送済み,2027-03-12,佐川急便,55500{i}" for i, o in enumerate(orders)]
    with django_capture_on_commit_callbacks(execute=True):
        first = order_updates_import(stream=_csv(rows), dry_run=False)
    assert (first.applied, first.errors) == (2, [])
    for i, order in enumerate(orders):
        order.refresh_from_db()
        assert (order.status, order.tracking_number, order.carrier.name) == (
            OrderStatus.SHIPPED,
            f"55500{i}",
            "佐川急便",
        )
        assert order.shipped_on == dt.date(2027, 3, 12)
        assert [n.kind for n in Notification.objects.filter(ref=order_ref(order.pk))] == ["mail:shipped"]
    assert len(mailoutbox) == 2
    assert "okurijoNo=555000" in mailoutbox[0].body

    events = OrderEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        again = order_updates_import(stream=_csv(rows), dry_run=False)
    assert (again.applied, again.unchanged, again.errors) == (0, 2, [])
    assert OrderEvent.objects.count() == events
    assert len(mailoutbox) == 2


def test_the_order_id_is_an_alternative_key_and_full_width_digits_are_read() -> None:
    order = shop_order()
    stream = io.BytesIO(f"受注ID,配送伝票番号\r\n{order.pk},１２３－４５６\r\n".encode("cp932"))
    report = order_updates_import(stream=stream, dry_run=False)
    order.refresh_from_db()
    assert report.errors == [] and order.tracking_number == "123-456" and order.status == OrderStatus.READY


def test_a_file_without_a_key_column_is_refused() -> None:
    report = order_updates_import(stream=io.BytesIO(b"a,b\r\n1,2\r\n"), dry_run=True)
    assert [(e.row, e.column) for e in report.errors] == [(1, "受注番号")]


def test_the_commands_export_cp932_and_import_it_back(
    tmp_path, django_capture_on_commit_callbacks, capsys
) -> None:  # noqa: ANN001
    ready = shop_order(ship_name="𠮷田 花子😀", delivery_date=dt.date(2027, 3, 15))
    shop_order(status=OrderStatus.NEW)
    out = tmp_path / "orders.csv"
    call_command(
        "export_orders", "--status", "ready", "--delivery-date", "2027-03-01..2027-03-31", "--out", str(out)
    )
    text = out.read_bytes().decode("cp932")
    lines = text.splitlines()
    assert lines[0].startswith("受注番号,対応状況,発送日,配送業者,配送伝票番号,お届け日")
    assert len(lines) == 2 and lines[1].startswith(f"{ready.number},出荷準備中,")
    assert "〓田 花子〓" in lines[1]
    assert "'𠮷😀' -> 〓" in capsys.readouterr().err

    filled = text.replace(
        f"{ready.number},出荷準備中,,,", f"{ready.number},発送済み,2027-03-12,日本郵便,EJ123456789JP"
    )
    out.write_bytes(filled.encode("cp932"))
    call_command("import_order_updates", str(out), "--dry-run")
    ready.refresh_from_db()
    assert ready.status == OrderStatus.READY
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_order_updates", str(out))
    ready.refresh_from_db()
    assert (ready.status, ready.tracking_number) == (OrderStatus.SHIPPED, "EJ123456789JP")

    out.write_bytes(f"{HEADER}{ready.number},届いた,,,\r\n".encode("cp932"))
    with pytest.raises(CommandError):
        call_command("import_order_updates", str(out), "--dry-run")


def test_a_file_exported_in_english_reads_back() -> None:
    order = shop_order()
    stream = io.BytesIO(f"Order number,Status,Tracking number\r\n{order.number},Shipped,777\r\n".encode())
    report = order_updates_import(stream=stream, dry_run=False)
    order.refresh_from_db()
    assert report.errors == [] and (order.status, order.tracking_number) == (OrderStatus.SHIPPED, "777")
