"""Mail attachments by reference: the outbox row holds what to attach (a kind and its arguments,
JSON), never the bytes; the file is made again when the mail is sent, retried or resent.

Apps above notifications register the kinds they can render (orders registers "invoice" in its
AppConfig.ready), so this module imports nothing from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# kind -> renderer(**args) -> Attachment
_RENDERERS: dict[str, Callable[..., Attachment]] = {}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def attachment_register(kind: str, renderer: Callable[..., Attachment]) -> None:
    _RENDERERS[kind] = renderer


def attachment_ref(kind: str, **args: Any) -> dict[str, Any]:
    """What an outbox row stores for one attachment: {"kind": ..., "args": {...}} (JSON values only)."""
    return {"kind": kind, "args": args}


def attachments_render(refs: list[dict[str, Any]]) -> list[Attachment]:
    """Each stored reference rendered now; an unknown kind raises (the mail is marked failed)."""
    rendered = []
    for ref in refs:
        renderer = _RENDERERS.get(ref.get("kind", ""))
        if renderer is None:
            raise LookupError(f"no renderer for attachment kind {ref.get('kind')!r}")
        rendered.append(renderer(**ref.get("args", {})))
    return rendered
