"""Mails written by reference: the outbox row holds what to write (a kind and its arguments, JSON)
and the subject and body are made when the mail is sent, as attachments are (attachments.py).

The nightly charge stage settles thousands of orders a second; rendering two mails per order there
took two-thirds of its time. It writes the rows with a reference instead, and the delivery renders
them a batch at a time. Apps above notifications register the kinds they render (orders: the shop's
order mails; billing: the payment instructions) in their AppConfig.ready, so this module imports
nothing from them. A renderer takes the args of many mails and returns (subject, body) for each, in
order, so it can read their rows in one query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# args of many mails -> (subject, body) for each, or the exception that stopped that one.
Renderer = Callable[[list[dict[str, Any]]], list[tuple[str, str] | Exception]]
_RENDERERS: dict[str, Renderer] = {}


def mail_renderer_register(kind: str, renderer: Renderer) -> None:
    _RENDERERS[kind] = renderer


def mail_ref(renderer: str, /, **args: Any) -> dict[str, Any]:
    """What an outbox row stores to be written at send: {"kind": ..., "args": {...}} (JSON values)."""
    return {"kind": renderer, "args": args}


def mails_render(refs: list[dict[str, Any]]) -> list[tuple[str, str] | Exception]:
    """(subject, body) for each reference, in order; an unknown kind or a renderer that raises gives
    the exception in place of those mails (the delivery marks them failed, a retry renders again)."""
    by_kind: dict[str, list[int]] = {}
    for index, ref in enumerate(refs):
        by_kind.setdefault(ref.get("kind", ""), []).append(index)
    out: list[tuple[str, str] | Exception] = [LookupError("not rendered")] * len(refs)
    for kind, indexes in by_kind.items():
        renderer = _RENDERERS.get(kind)
        try:
            if renderer is None:
                raise LookupError(f"no renderer for mail kind {kind!r}")
            rendered = renderer([refs[i].get("args", {}) for i in indexes])
        except Exception as exc:  # noqa: BLE001 - one kind's failure must not stop the other mails
            rendered = [exc] * len(indexes)
        for index, result in zip(indexes, rendered, strict=True):
            out[index] = result
    return out
