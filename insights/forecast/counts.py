"""What the loop over subscriptions counts: plain counters keyed by what each total depends on.

The loop only increments counters (C-fast dict updates); pricing happens afterwards, once per
distinct key. Each counter is keyed as narrowly as its figure allows, so it stays small: the price
by (night, price key, sequence), units per delivery day by (day, items), and so on.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from .schedule import PlannedNight, resume_night
from .sources import Profile, Shape


class Counts:
    __slots__ = ("priced", "deliveries", "slots", "kinds", "held", "moved", "resumed", "resumes",
                 "continuing", "subscriptions", "failed")  # fmt: skip

    def __init__(self) -> None:
        self.priced: Counter = Counter()  # (night, price key, sequence) -> orders
        self.deliveries: Counter = Counter()  # (delivery date, items) -> orders
        self.slots: Counter = Counter()  # (delivery date, time slot) -> orders
        self.kinds: Counter = Counter()  # (delivery date, payment kind) -> orders
        self.held: Counter = Counter()  # night -> orders created on hold
        self.moved: Counter = Counter()  # night -> orders moved to the first date that can be met
        self.resumed: Counter = Counter()  # night -> orders of subscriptions resumed by the forecast
        self.resumes: Counter = Counter()  # night -> subscriptions the resume stage brings back
        self.continuing: Counter = Counter()  # (night, course, deliveries so far, index) -> orders
        self.subscriptions = 0
        self.failed = 0

    def add_shape(self, shape: Shape, start: date, end: date, n: int) -> None:
        self.subscriptions += n
        night = resume_night(shape, start)
        if night is not None and night <= end:
            self.resumes[night] += n

    def add_orders(
        self, planned: tuple[PlannedNight, ...], profile: Profile, n: int, *, priced: bool = True
    ) -> None:
        key, cc, oc, course = (
            profile.price_key,
            profile.cycle_count,
            profile.orders_created,
            profile.course_id,
        )
        items, slot, kind, held = profile.items, profile.time_slot, profile.payment_kind, profile.held
        for p in planned:
            night, delivery = p.night, p.delivery_date
            # ついで買い ride the subscription's next order only: the first the forecast plays.
            with_addons = profile.addons and p.index == 0
            if priced:
                self.priced[(night, (*key, profile.addons) if with_addons else key, cc + p.index + 1)] += n
            self.deliveries[(delivery, items + profile.addons if with_addons else items)] += n
            self.slots[(delivery, slot)] += n
            self.kinds[(delivery, kind)] += n
            self.continuing[(night, course, oc, p.index)] += n
            if held:
                self.held[night] += n
            if p.moved:
                self.moved[night] += n
            if p.resumed:
                self.resumed[night] += n

    def merge(self, other: Counts) -> None:
        for name in self.__slots__[:-2]:
            getattr(self, name).update(getattr(other, name))
        self.subscriptions += other.subscriptions
        self.failed += other.failed
