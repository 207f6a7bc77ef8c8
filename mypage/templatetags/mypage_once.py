"""`{% once_per_language %}…{% endonce_per_language %}`: a block rendered once per process and
language, then repeated as a string.

For the parts of a page that are the same for every customer — translated headings, labels and
links ({% translate %}, {% url %} without arguments that vary, {% static %}) — which the my page
rendered on every request (the page's budget is a p95 of 50 ms under load). The block must not
read the context: no variables, no {% csrf_token %}, no request or user. The compiled template
(Django's cached loader) holds the strings, so they live as long as the process and follow its
code and translation files.
"""

from __future__ import annotations

from django import template
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class OncePerLanguageNode(Node):
    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist
        self._rendered: dict[str | None, SafeString] = {}  # language -> HTML (a dict set is atomic)

    def render(self, context: Context) -> SafeString:
        language = translation.get_language()
        html = self._rendered.get(language)
        if html is None:
            html = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the template engine
            self._rendered[language] = html
        return html


@register.tag("once_per_language")
def once_per_language(parser: Parser, token: Token) -> OncePerLanguageNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("once_per_language takes no arguments")
    nodelist = parser.parse(("endonce_per_language",))
    parser.delete_first_token()
    return OncePerLanguageNode(nodelist)
