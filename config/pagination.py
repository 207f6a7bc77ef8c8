"""The API's one pagination: limit/offset with both bounded, so no query string reaches SQL unbounded."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from core.errors import DomainError


def _non_negative(request: Request, name: str, *, minimum: int) -> int | None:
    """The query parameter as an int, None when absent; anything else is the client's error (400)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise DomainError(
            "invalid_pagination",
            _("%(name)s は %(minimum)s 以上の整数で指定してください。") % {"name": name, "minimum": minimum},
            field=name,
        )
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 200
    # Past this offset every page is empty anyway; a larger one would overflow PostgreSQL's bigint.
    max_offset = 2**31 - 1

    def get_limit(self, request: Request) -> int | None:
        limit = _non_negative(request, self.limit_query_param, minimum=1)
        if limit is None:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        offset = _non_negative(request, self.offset_query_param, minimum=0)
        return min(offset or 0, self.max_offset)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 0}
        return parameters
