"""The Jinja2 environment of the my page's hot pages (settings TEMPLATES "jinja2", templates in
mypage/jinja2/): the same HTML the Django templates gave, byte for byte.

Jinja2 compiles a template to Python once per process; rendering the subscription page costs about
a quarter of the instructions Django's template engine spent on it (README "My page CPU"). What
makes the output the same:
- every printed value is escaped as Django escapes it (`finalize`: `html.escape`, so `&#x27;` and
  `&quot;`, not markupsafe's `&#39;` and `&#34;`); safe HTML (`__html__`) passes through as it does
  there; Jinja2's own autoescape is off, or values would be escaped twice;
- `_()` is Django's gettext (remembered per language and message) and its result is escaped like
  `{% translate %}`'s; `|fmt(name=value)` is `{% blocktranslate with name=value %}`: the
  translation as written, the values escaped;
- `date`, `intcomma` and `join` are Django's filters; `keep_trailing_newline` as Django keeps it;
- `{% once_per_language %}…{% endonce_per_language %}` renders a block with no context in it once
  per process and language, like mypage.templatetags.mypage_once.

Messages in these templates are written as `_("…%(name)s…")`, which `makemessages` reads as it reads
`{{ _("…") }}` in a Django template, so the catalogue keeps them.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import join as join_filter
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_LBRACKET,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RBRACKET,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from jinja2.parser import Parser

from .display import cycle_label, field_label, ymd_dow

_block_numbers = itertools.count()


class OncePerLanguage(Extension):
    """`{% once_per_language %}…{% endonce_per_language %}`: the block's HTML kept per language."""

    tags = {"once_per_language"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._rendered: dict[tuple[int, str | None], Any] = {}  # (block, language) -> HTML

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endonce_per_language",), drop_needle=True)
        # A number per block as compiled: a template compiled again (auto-reload) gets new ones.
        block = nodes.Const(next(_block_numbers))
        return nodes.CallBlock(self.call_method("_render", [block]), [], [], body).set_lineno(lineno)

    def _render(self, block: int, caller: Any) -> Any:
        key = (block, translation.get_language())
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = caller()
            self._rendered[key] = rendered  # a dict set is atomic: two threads at most render it twice
        return rendered


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args or None)


def _escaped(value: Any) -> str:
    """Every `{{ … }}`'s value as Django's templates print it: escaped by `html.escape` (which is
    Django's `escape`) unless it is safe HTML already. Whole numbers need no escaping (ids,
    quantities: a third of the page's values)."""
    if type(value) is int:
        return str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


class _Catalogue:
    """gettext for one language, remembered per message: the catalogues do not change while the
    process runs, and Django's gettext looks the language and its fallbacks up on every call.
    `_["…"]` is what the templates' `_("…")` compiles to (GettextLookup)."""

    def __init__(self, language: str | None) -> None:
        self.language = language
        self._found: dict[str, str] = {}

    def __getitem__(self, message: str) -> str:
        found = self._found.get(message)
        if found is None:
            with translation.override(self.language):
                found = translation.gettext(message)
            self._found[message] = found  # a dict set is atomic
        return found

    __call__ = __getitem__


_catalogues: dict[str | None, _Catalogue] = {}


def catalogue(language: str | None) -> _Catalogue:
    found = _catalogues.get(language)
    if found is None:
        found = _catalogues.setdefault(language, _Catalogue(language))
    return found


class _ActiveCatalogue:
    """`_` where no page context set one (a partial included from a Django template): the active
    language's catalogue."""

    def __getitem__(self, message: str) -> str:
        return catalogue(translation.get_language())[message]

    __call__ = __getitem__


class GettextLookup(Extension):
    """Compiles `_("literal")` to `_["literal"]`: an item lookup, which Jinja2 runs without the
    checks a call goes through (about 60 messages a page). The source keeps `_("…")`, the form
    makemessages extracts."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        tokens = list(stream)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            window = tokens[index : index + 4]
            if (
                token.type == TOKEN_NAME
                and token.value == "_"
                and [t.type for t in window] == [TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]
            ):
                yield token
                yield Token(window[1].lineno, TOKEN_LBRACKET, "[")
                yield window[2]
                yield Token(window[3].lineno, TOKEN_RBRACKET, "]")
                index += 4
                continue
            yield token
            index += 1


def _fmt(message: str, **values: Any) -> SafeString:
    """`{% blocktranslate with … %}`: the translated text as is, each value escaped into it."""
    return mark_safe(message % {name: conditional_escape(value) for name, value in values.items()})  # noqa: S308 - values escaped


def _date(value: Any, format_string: str) -> str:
    """Django's `date` filter, given the local time as Django's templates give it (`expects_localtime`);
    the page's four formats of a plain date written out (the same text, a tenth of the cost)."""
    if type(value) is date:
        if format_string == "Y/m/d (D)":
            return ymd_dow(value)
        if format_string == "n/j":
            return f"{value.month}/{value.day}"
        if format_string == "Y/m/d":
            return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"
        if format_string == "Y-m-d":
            return value.isoformat()
    return date_filter(template_localtime(value), format_string)


def _join(values: Any, separator: str) -> str:
    return join_filter(values, separator, autoescape=True)


def page_context(request: Any) -> dict[str, Any]:
    """A context processor: the CSRF field computed once per page, as Django's `{% csrf_token %}`
    does (the backend's own `csrf_input` masks the token anew for every form on the page), the
    language and `_` translating into it."""
    language = translation.get_language()
    return {"csrf_input": csrf_input(request), "_": catalogue(language), "LANGUAGE_CODE": language}


def environment(**options: Any) -> Environment:
    options.setdefault("keep_trailing_newline", True)
    # Escaping is `finalize`'s, as Django does it, on every value printed; Jinja2's own autoescape
    # would escape a second time, the markupsafe way (settings turn it off for this engine).
    options["autoescape"] = False
    env = Environment(**options, finalize=_escaped, extensions=[OncePerLanguage, GettextLookup])
    env.globals.update(
        {
            "_": _ActiveCatalogue(),
            "url": _url,
            "static": static,
            "label": field_label,  # get_<field>_display(), translated once per language
            "cycle_label": cycle_label,
        }
    )
    env.filters.update({"date": _date, "intcomma": intcomma, "join": _join, "fmt": _fmt})
    return env
