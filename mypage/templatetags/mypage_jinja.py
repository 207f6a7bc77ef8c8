"""`{% jinja_include "mypage/partials/…" %}`: a Jinja2 partial (mypage/jinja2/) inside a Django template.

The subscription page is rendered by Jinja2 (mypage.jinja_env); the home page, still a Django
template, shows the same next-delivery and next-order-price parts for each subscription. They are
written once, in Jinja2, and the home page includes them with its current context.
"""

from __future__ import annotations

from django import template
from django.template import engines
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja_include(context: Context, name: str) -> SafeString:
    jinja = engines["jinja2"].env  # type: ignore[attr-defined]
    return mark_safe(jinja.get_template(name).render(context.flatten()))  # noqa: S308 - escaped by the engine
