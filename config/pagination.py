"""The API's one pagination: limit/offset with both bounded, so no query string reaches SQL unbounded."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 200
    # Past this offset every page is empty anyway; a larger one would overflow PostgreSQL's bigint.
    max_offset = 2**31 - 1

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), self.max_offset)
