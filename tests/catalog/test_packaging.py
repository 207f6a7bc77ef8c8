"""メール便判定 (pure): which methods an order's items fit, and which one the order gets."""

from __future__ import annotations

import pytest

from catalog.packaging import (
    NO_COD,
    NO_TIME_SLOT,
    TOO_HEAVY,
    TOO_THICK,
    UNMEASURED,
    MethodTerms,
    Package,
    delivery_decide,
    method_misfits,
)

PARCEL = MethodTerms("parcel", 800, is_default=True)
MAIL_BIN = MethodTerms(
    "mail_bin", 200, 340, 250, 30, 1000, allows_time_slot=False, allows_cod=False, auto_assign=True
)
NEKOPOS = MethodTerms("nekopos", 380, 312, 228, 30, 1000, allows_time_slot=False, allows_cod=False)
THIN = Package(200, 150, 10, 100)
THICK = Package(300, 200, 35, 400)


@pytest.mark.parametrize(
    ("items", "time_slot", "cod", "codes"),
    [
        ([(THIN, 1)], False, False, []),
        ([(THIN, 3)], False, False, []),  # 30 mm stacked: at the limit
        ([(THIN, 4)], False, False, [TOO_THICK]),
        ([(THICK, 1)], False, False, [TOO_THICK]),
        ([(Package(200, 150, 5, 600), 2)], False, False, [TOO_HEAVY]),
        ([(Package(), 1)], False, False, [UNMEASURED]),
        ([(THIN, 1)], True, False, [NO_TIME_SLOT]),
        ([(THIN, 1)], False, True, [NO_COD]),
    ],
)
def test_mail_bin_fit(items, time_slot, cod, codes):
    assert [m.code for m in method_misfits(MAIL_BIN, items, time_slot=time_slot, cod=cod)] == codes


def test_a_method_without_limits_fits_anything_even_unmeasured():
    assert method_misfits(PARCEL, [(Package(), 5), (THICK, 9)], time_slot=True, cod=True) == []


@pytest.mark.parametrize(
    ("items", "requested", "time_slot", "method", "fee", "offered", "refused"),
    [
        ([(THIN, 1)], "", False, "mail_bin", 200, (), ""),  # cheapest fitting, assigned automatically
        ([(THICK, 1)], "", False, "parcel", 800, (), ""),  # does not fit: the default
        ([(THICK, 1)], "mail_bin", False, "parcel", 800, (), "mail_bin"),  # asked, never given
        ([(THIN, 1)], "", True, "parcel", 800, (), ""),  # a time slot rules the letterbox out
        ([(THIN, 1)], "parcel", False, "parcel", 800, ("mail_bin", "nekopos"), ""),  # cheaper ones offered
    ],
)
def test_delivery_decision(items, requested, time_slot, method, fee, offered, refused):
    decision = delivery_decide([PARCEL, MAIL_BIN, NEKOPOS], items, requested=requested, time_slot=time_slot)
    assert (decision.method, decision.fee, decision.offered, decision.refused) == (
        method,
        fee,
        offered,
        refused,
    )


def test_not_automatic_methods_are_only_offered():
    manual = MethodTerms("mail_bin", 200, 340, 250, 30, 1000)
    decision = delivery_decide([PARCEL, manual], [(THIN, 1)])
    assert (decision.method, decision.offered) == ("parcel", ("mail_bin",))
    assert delivery_decide([], [(THIN, 1)]).method == ""
