"""A portable "this JSON list holds that string" filter.

PostgreSQL answers `field__contains=[value]` from its jsonb operators (and indexes); SQLite, the
embedded default `make run` serves, has no such lookup and raises NotSupportedError. There the list
is matched as text (LIKE): Django stores a JSON list of strings as `["a", "b"]`, so the quoted value
(escaped as json.dumps writes it) appears in the text exactly when it is an element. SQLite's LIKE
folds ASCII case: meant for codes (hold reasons, attention reasons), not free text.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Q


def json_list_has(field: str, value: str) -> Q:
    """Q for rows whose JSON list `field` has the string `value` as an element."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": json.dumps(value)})
