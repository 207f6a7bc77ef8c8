"""{% once_per_language %}: rendered once per process and language, the same text as without it."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import translation

ENGINE = Engine(
    libraries={"mypage_once": "mypage.templatetags.mypage_once", "i18n": "django.templatetags.i18n"}
)


def test_each_language_gets_its_own_text_and_later_renders_repeat_it():
    template = ENGINE.from_string(
        '{% load i18n mypage_once %}{% once_per_language %}{% translate "ホーム" %}|{{ n }}{% endonce_per_language %}'
    )
    with translation.override("ja"):
        assert template.render(Context({"n": 1})) == "ホーム|1"
        # the block is not re-rendered: a context value that changed does not show (why it must not read any)
        assert template.render(Context({"n": 2})) == "ホーム|1"
    with translation.override("en"):
        assert template.render(Context({"n": 3})) == "Home|3"
    with translation.override("ja"):
        assert template.render(Context({"n": 4})) == "ホーム|1"


def test_arguments_are_refused():
    with pytest.raises(TemplateSyntaxError):
        ENGINE.from_string("{% load mypage_once %}{% once_per_language x %}{% endonce_per_language %}")
