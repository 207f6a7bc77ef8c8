"""Makes the OpenAPI schema tell the truth about errors: every operation can answer {code, message}.

config.api_errors turns every refusal into that shape, so every operation documents the statuses the
handler can produce with one shared component, instead of each view remembering to list them.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every refusal of the API: a machine-readable code and a message for people.",
    "properties": {
        "code": {"type": "string", "description": "machine-readable, e.g. not_found, invalid"},
        "message": {"type": "string", "description": "for people, in the request's language"},
        "field": {"type": "string", "description": "the input field at fault, when there is one"},
        "errors": {"description": "per-field details of a validation error"},
    },
    "required": ["code", "message"],
}

# Status -> what it means here. 403 covers "not signed in" too: session authentication answers 403.
ERROR_STATUSES = {
    "400": "Invalid input or refused by the shop's rules",
    "403": "Not signed in, or not allowed",
    "404": "Not found (also another customer's object)",
    "409": "Conflicts with the object's current state",
    "413": "The request body is over the upload limit",
}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the Error component and its statuses on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                existing = responses.get(code, {})
                responses[code] = {
                    "description": existing.get("description") or description,
                    "content": {"application/json": {"schema": reference}},
                }
    return result
