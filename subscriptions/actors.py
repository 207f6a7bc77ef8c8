"""Who made a change: every service takes an Actor so the timeline can say who did what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import ActorKind


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # an ActorKind value
    user: Any = None  # the auth user, None for the system

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def customer(cls, user: Any) -> Actor:
        return cls(ActorKind.CUSTOMER, user)

    @classmethod
    def admin(cls, user: Any) -> Actor:
        return cls(ActorKind.ADMIN, user)

    @property
    def is_customer(self) -> bool:
        return self.kind == ActorKind.CUSTOMER

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)
