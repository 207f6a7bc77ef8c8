"""Finding a customer the way staff type them: name (kanji or kana, any width, spaces ignored), phone
(digits only), email, customer number.

What staff type is folded like the shop's data is written (`fold`): full-width digits and letters to
half-width, half-width kana to full-width, spaces dropped; stored names and phones are folded the
same way in the query (spaces, hyphens and brackets removed), so 山田花子 finds 山田 花子, やまだ finds
ヤマダ, and ０９０１２３４ finds 090-1234-…. The order list's search (orders.admin_filters) folds with
these same helpers.
"""

from __future__ import annotations

import jaconv
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace

from .models import Customer

MAX_RESULTS = 20
# What people write between the digits of a phone number (and "#" before a customer number).
_NUMBER_MARKS = str.maketrans("", "", "#-‐‑‒–—―−ー－ｰ()（）")


def fold(text: str) -> str:
    """What staff typed, as the shop writes it: ASCII half-width, kana full-width, no spaces."""
    text = jaconv.z2h(text, kana=False, ascii=True, digit=True)
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    return "".join(text.split())


def digits(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isdigit())


def no_spaces(field: str):  # noqa: ANN201 - a query expression
    """The stored text without half- or full-width spaces."""
    return Replace(Replace(F(field), Value(" "), Value("")), Value("\u3000"), Value(""))


def phone_digits(field: str):  # noqa: ANN201 - a query expression
    """The stored phone number without the marks people write between its digits."""
    expression = F(field)
    for mark in ("-", " ", "(", ")", "－", "ー"):
        expression = Replace(expression, Value(mark), Value(""))
    return expression


def customer_search(*, term: str, limit: int = MAX_RESULTS) -> list[Customer]:
    """Customers matching what staff typed (newest first, at most `limit`), with their user and
    addresses: a number of up to 7 digits is also a customer number, 6 or more digits a phone."""
    folded = fold(term)
    if not folded:
        return []
    queryset: QuerySet[Customer] = Customer.objects.all()
    found = Q(user__email__iexact=folded)
    number = digits(term)
    if number and number == folded.translate(_NUMBER_MARKS):
        if len(number) <= 7:
            found |= Q(pk=int(number))
        if len(number) >= 6:
            queryset = queryset.annotate(
                _phone=phone_digits("phone"), _address_phone=phone_digits("addresses__phone")
            )
            found |= Q(_phone__contains=number) | Q(_address_phone__contains=number)
    else:
        if "@" in folded:
            found |= Q(user__email__icontains=folded)
        queryset = queryset.annotate(_name=no_spaces("name"), _kana=no_spaces("name_kana"))
        found |= Q(_name__icontains=folded) | Q(_kana__icontains=jaconv.hira2kata(folded))
        found |= Q(_kana__icontains=jaconv.kata2hira(folded))
    ids = list(queryset.filter(found).order_by("-id").values_list("id", flat=True).distinct()[:limit])
    return list(
        Customer.objects.filter(pk__in=ids)
        .select_related("user")
        .prefetch_related("addresses")
        .order_by("-id")
    )
