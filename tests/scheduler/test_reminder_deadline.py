"""A reminder never shows a change deadline already past: after it, it says where changes now land."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from scheduler.pipeline import stage_reminders
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

# Monthly on the 3rd: order created Wed 2027-01-27, change deadline Mon 01-25 (2 days before),
# the delivery after is Wed 2027-03-03. The reminder window opens 3 days before creation (01-24).
CASES = [
    # run date, language, must contain, must not contain
    (
        dt.date(2027, 1, 24),
        "ja",
        ["2027年1月25日（月） までにマイページから"],
        ["締切は過ぎた"],
    ),
    (
        dt.date(2027, 1, 25),
        "ja",
        ["2027年1月25日（月） までにマイページから"],
        ["締切は過ぎた"],
    ),  # the day of
    (
        dt.date(2027, 1, 26),  # the day after
        "ja",
        ["今回のお届けの変更締切は過ぎたため", "その次のお届け（2027年3月3日（水））から反映されます"],
        ["1月25日", "までに"],
    ),
    (dt.date(2027, 1, 24), "en", ["by Mon, January 25, 2027."], ["has passed"]),
    (dt.date(2027, 1, 25), "en", ["by Mon, January 25, 2027."], ["has passed"]),
    (
        dt.date(2027, 1, 26),
        "en",
        [
            "The change deadline for this delivery has passed",
            "apply from the delivery after it (Wed, March 3, 2027)",
        ],
        ["January 25", "締切"],
    ),
]


@pytest.mark.parametrize(("run_date", "language", "present", "absent"), CASES)
def test_the_reminder_names_only_a_deadline_still_ahead(
    policy, mailoutbox, django_capture_on_commit_callbacks, run_date, language, present, absent
):
    # given a subscription whose order is created on the 27th, in the customer's language
    sub = SubscriptionFactory(anchor_date=dt.date(2027, 2, 3))
    type(sub.customer).objects.filter(pk=sub.customer_id).update(language=language)
    assert sub.next_creation_date == dt.date(2027, 1, 27)
    # when the reminder stage runs (a late run catches up) on run_date
    frozen = time_machine.travel(dt.datetime.combine(run_date, dt.time(3), tzinfo=dt.UTC), tick=False)
    with frozen, django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders(run_date) == {"reminders_sent": 1}
    # then the mail says what is true that day
    body = mailoutbox[0].body
    for text in present:
        assert text in body
    for text in absent:
        assert text not in body


def test_past_the_deadline_a_skipped_following_delivery_is_passed_over(
    policy, mailoutbox, django_capture_on_commit_callbacks
):
    sub = SubscriptionFactory(anchor_date=dt.date(2027, 2, 3))
    type(sub).objects.filter(pk=sub.pk).update(skipped_sequences=[2])
    frozen = time_machine.travel(dt.datetime(2027, 1, 26, 3, tzinfo=dt.UTC), tick=False)
    with frozen, django_capture_on_commit_callbacks(execute=True):
        stage_reminders(dt.date(2027, 1, 26))
    assert "その次のお届け（2027年4月3日（土））から反映されます" in mailoutbox[0].body
