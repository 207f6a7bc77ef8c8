"""The subscription page is rendered by Jinja2 (mypage.jinja_env) and must print what Django's
templates print: the same header and footer as the Django base the other pages use, Django's
escaping, dates in the shop's local time."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from subscriptions.models import SubscriptionItem, SubscriptionStatus
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _request(user):  # noqa: ANN001, ANN202
    request = RequestFactory().get("/mypage/somewhere/?a=1&b=<x>")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = user
    request._messages = FallbackStorage(request)
    messages.success(request, "保存しました <確認> & 'OK'")
    return request


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("signed_in", [True, False])
def test_the_jinja_base_prints_what_the_django_base_prints(customer, language, signed_in) -> None:  # noqa: ANN001
    request = _request(customer.user if signed_in else AnonymousUser())
    with translation.override(language):
        django_html = engines["django"].get_template("mypage/base.html").render({}, request)
        jinja_html = engines["jinja2"].get_template("mypage/base.html").render({}, request)
    assert _CSRF.sub("", jinja_html) == _CSRF.sub("", django_html)
    assert "&lt;確認&gt; &amp; &#x27;OK&#x27;" in jinja_html and ("ログアウト" in jinja_html) is (
        signed_in and language == "ja"
    )


def test_names_are_escaped_as_django_escapes_them(logged_in, subscription) -> None:  # noqa: ANN001
    product = ProductFactory(name='O\'Reilly & "Sons" <b>')
    SubscriptionItem.objects.create(subscription=subscription, product=product, quantity=1)
    body = logged_in.get(reverse("mypage:subscription", args=[subscription.pk])).content.decode()
    assert "<li>O&#x27;Reilly &amp; &quot;Sons&quot; &lt;b&gt; × 1</li>" in body
    assert "<b>" not in body


def test_the_cancellation_date_is_the_shops_local_date(logged_in, subscription) -> None:  # noqa: ANN001
    # 20:30 UTC on 3/1 is 5:30 on 3/2 in Tokyo.
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = datetime(2026, 3, 1, 20, 30, tzinfo=ZoneInfo("UTC"))
    subscription.save()
    body = logged_in.get(reverse("mypage:subscription", args=[subscription.pk])).content.decode()
    assert "<dd>2026/03/02</dd>" in body
