"""The admin timeline reads values in words, not the stored JSON; closed weekdays are named."""

from __future__ import annotations

import pytest
from django.utils import translation

from subscriptions.admin import ShopPolicyForm
from subscriptions.event_display import event_changes, value_text
from subscriptions.models import SubscriptionEvent


def _names(ids: list[int]) -> dict[int, str]:
    return {7: "青汁"}


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("next_delivery_date", "2027-02-05", "2027年2月5日（金）"),
        ("status", "paused", "休止中"),
        ("delivery_time_slot", "08-12", "午前中"),
        ("delivery_time_slot", "", "—"),
        ("points_reservation", "all", "すべて使う"),
        ("cycle_weekday", 5, "土曜日"),
        ("cycle_nth_week", -1, "最終"),
        ("skipped_sequences", [2, 3], "2回目、3回目"),
        ("needs_attention", ["payment_failed"], "決済エラー"),
        ("items", {"7": 2, "9": 1}, "青汁 × 2、#9 × 1"),
        ("next_sequence", 4, "4回目"),
        ("shipping_address_id", 12, "#12"),
        ("date_moved", True, "はい"),
        ("paused_until", None, "—"),
    ],
)
def test_values_read_as_the_shop_reads_them(key, value, text):
    with translation.override("ja"):
        assert value_text(key, value, product_names=_names) == text


def test_changes_name_the_fields_and_keep_only_what_changed():
    event = SubscriptionEvent(
        kind="next_date_changed",
        before={"next_delivery_date": "2027-02-05", "next_sequence": 2, "anchor_sequence": 1},
        after={"next_delivery_date": "2027-03-05", "next_sequence": 2, "anchor_sequence": 2},
    )
    with translation.override("ja"):
        rows = event_changes(event, product_names=_names)
    assert rows == [
        ("次回お届け日", "2027年2月5日（金）", "2027年3月5日（金）"),
        ("基準回", "1回目", "2回目"),
    ]
    assert event.label == "お届け日変更"


def test_an_unknown_kind_shows_as_stored():
    assert SubscriptionEvent(kind="something_new").label == "something_new"


@pytest.mark.django_db
def test_closed_weekdays_are_checkboxes_by_name_stored_as_before(policy):
    # given the policy closed on Saturday and Sunday ("5,6")
    form = ShopPolicyForm(instance=policy)
    assert form.initial["closed_weekdays"] == [5, 6]
    with translation.override("ja"):
        assert [str(label) for _value, label in form.fields["closed_weekdays"].choices][5:] == [
            "土曜日",
            "日曜日",
        ]

    # when the admin ticks Sunday and Wednesday
    form = ShopPolicyForm({"closed_weekdays": ["6", "2"]}, instance=policy)

    # then the policy keeps them in its own format
    assert form.is_valid(), form.errors
    assert form.cleaned_data["closed_weekdays"] == "2,6"
