"""The page's fixed labels are translated once per language and process (mypage.display) and are
the very strings Django's own display methods give, in Japanese and in English."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR

from catalog.models import CourseCycle
from mypage import display
from subscriptions.models import PointsReservation, SubscriptionEvent, TimeSlot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["ja", "en"])
def test_labels_are_djangos_in_each_language(subscription, language) -> None:  # noqa: ANN001
    with translation.override(language):
        monday = date(2026, 3, 2)
        for offset in range(7):
            day = monday + timedelta(days=offset)
            assert display.ymd_dow(day).endswith(f"({WEEKDAYS_ABBR[day.weekday()]})")
        assert display.choices(TimeSlot) == [(v, str(label)) for v, label in TimeSlot.choices]
        assert display.choices(PointsReservation) == [
            (v, str(label)) for v, label in PointsReservation.choices
        ]
        for field in ("status", "delivery_time_slot", "points_reservation"):
            assert display.field_label(subscription, field) == getattr(subscription, f"get_{field}_display")()
        assert display.cycle_label(subscription) == subscription.cycle_label
        offered = CourseCycle(course=subscription.course, unit="week", interval=2)
        assert display.course_cycle_label(offered) == str(offered)
        event = SubscriptionEvent(kind="time_slot_changed", actor_kind="customer")
        _, label, actor = display.timeline_rows([_with_time(event)])[0]
        expected_actor = translation.gettext("（%(actor)s）") % {"actor": event.get_actor_kind_display()}
        assert label == event.label and actor == expected_actor


def test_the_languages_do_not_mix(subscription) -> None:  # noqa: ANN001
    with translation.override("ja"):
        japanese = display.field_label(subscription, "status")
    with translation.override("en"):
        english = display.field_label(subscription, "status")
    assert japanese != english and english == "Active"


def test_an_unknown_value_shows_as_stored(subscription) -> None:  # noqa: ANN001
    subscription.delivery_time_slot = "odd"
    assert display.field_label(subscription, "delivery_time_slot") == "odd"


def _with_time(event: SubscriptionEvent) -> SubscriptionEvent:
    from django.utils import timezone

    event.created_at = timezone.now()
    return event
