"""The back-office pages: home counts and links, CSV export from the filtered list, the upload flow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from orders.mails import order_ref
from orders.models import OrderStatus
from subscriptions.selectors import today_in_shop
from tests.backoffice.helpers import shop_order
from tests.factories import CustomerFactory, UserFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):  # noqa: ANN001, ANN201
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    return client


def test_pages_are_for_staff_only(client) -> None:  # noqa: ANN001
    client.force_login(UserFactory())
    for name in ("backoffice:home", "backoffice:export", "backoffice:order_updates"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_home_counts_the_daily_views_and_links_to_the_filtered_lists(
    staff, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    shop_order(status=OrderStatus.READY)
    shop_order(status=OrderStatus.READY)
    shop_order(status=OrderStatus.ON_HOLD, hold_reasons=["blacklisted"])
    with django_assert_max_num_queries(12):
        page = staff.get(reverse("backoffice:home")).content.decode()
    ready = reverse("admin:orders_order_changelist") + "?status__exact=ready"
    assert f'<a href="{ready}" id="saved-ready">出荷待ち</a></th><td class="count">2</td>' in page
    assert 'id="saved-on_hold">要対応</a></th><td class="count">1</td>' in page
    assert "hold_reason=blacklisted" in page


def test_export_takes_the_order_list_filters_and_is_cp932_by_default(staff) -> None:  # noqa: ANN001
    ready = shop_order(
        status=OrderStatus.READY, customer=CustomerFactory(name="髙橋 𠮷子"), ship_name="髙橋 𠮷子"
    )
    shop_order(status=OrderStatus.NEW)
    response = staff.post(
        reverse("backoffice:export"),
        {
            "kind": "orders",
            "encoding": "cp932",
            "columns": ["number", "status", "ship_name", "payment_kind"],
            "filters": "status__exact=ready",
        },
    )
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    text = b"".join(response.streaming_content).decode("cp932")
    assert text.splitlines() == [
        "受注番号,対応状況,お届け先氏名,支払方法",
        f"{ready.number},出荷準備中,髙橋 〓子,クレジットカード",
    ]
    # the replacement is reported on the export page
    page = staff.get(reverse("backoffice:export")).content.decode()
    assert "2行目 お届け先氏名: 𠮷" in page


@pytest.mark.parametrize("kind", ["lines", "subscriptions", "customers"])
def test_the_other_exports_in_utf8_with_a_bom(staff, kind) -> None:  # noqa: ANN001
    shop_order()
    response = staff.post(reverse("backoffice:export"), {"kind": kind, "encoding": "utf-8"})
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    header = data.decode("utf-8-sig").splitlines()[0]
    assert {"lines": "商品名", "subscriptions": "次回お届け日", "customers": "氏名（カナ）"}[kind] in header


def test_upload_dry_run_then_confirm(staff, django_capture_on_commit_callbacks, mailoutbox) -> None:  # noqa: ANN001
    order = shop_order(delivery_date=dt.date(2027, 3, 15))
    body = f"受注番号,対応状況,発送日,配送業者,配送伝票番号\r\n{order.number},発送済み,2027-03-12,ヤマト運輸,4444\r\n"
    upload = SimpleUploadedFile("updates.csv", body.encode("cp932"), content_type="text/csv")
    page = staff.post(
        reverse("backoffice:order_updates"), {"encoding": "auto", "file": upload}
    ).content.decode()
    assert "確認のみ（書き込みなし）: 変更 1件" in page and "4444" in page
    order.refresh_from_db()
    assert order.status == OrderStatus.READY
    token = page.split('name="token" value="')[1].split('"')[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("backoffice:order_updates"), {"confirm": "1", "token": token, "encoding": "cp932"}
        )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (OrderStatus.SHIPPED, "4444")
    assert Notification.objects.filter(ref=order_ref(order.pk)).count() == 1 and len(mailoutbox) == 1
    # the file is gone: confirming twice does nothing
    again = staff.post(
        reverse("backoffice:order_updates"), {"confirm": "1", "token": token, "encoding": "cp932"}
    )
    assert again.status_code == 302 and len(mailoutbox) == 1


def test_the_order_list_links_to_the_export_with_its_filters(staff) -> None:  # noqa: ANN001
    page = staff.get(reverse("admin:orders_order_changelist") + "?status__exact=ready").content.decode()
    assert reverse("backoffice:export") + "?filters=status__exact%3Dready" in page


def test_home_shows_tonights_charges(staff) -> None:  # noqa: ANN001
    # given two new unpaid orders created today (the charge stage takes them tonight) and a held one
    today = today_in_shop()
    shop_order(status=OrderStatus.NEW, total=4480, creation_date=today)
    shop_order(status=OrderStatus.NEW, total=1000, creation_date=today - dt.timedelta(days=1))
    shop_order(status=OrderStatus.NEW, total=700, creation_date=today + dt.timedelta(days=1))  # not yet
    shop_order(status=OrderStatus.ON_HOLD, total=9999, creation_date=today)  # held: not charged
    page = staff.get(reverse("backoffice:home")).content.decode()
    assert "2件 ¥5,480" in page


def test_failed_mails_have_a_beat_entry() -> None:
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(task="notifications.retry_failed_mails")
    assert entry.enabled and (entry.interval.every, entry.interval.period) == (15, "minutes")
