"""The OpenAPI 3.1 document, generated from the typed contract, never written by hand.

Sources: `read_endpoints.ENDPOINTS` (operations), `read_params.PARAMETERS` (each query
parameter's schema is the parser's own), `read_items` (answer items and webhook bodies,
through msgspec's JSON Schema), `ingest_schema` (the ingest bodies). Invariant: what the
document declares valid the server accepts, and what it declares invalid the server
refuses with a 4xx in the envelope; the suite fuzzes the running server to hold it.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from footfall.domain import read_items
from footfall.domain.read_endpoints import Endpoint
from footfall.domain.read_params import NONCE, PARAMETERS, Param

from .envelope import Code
from .ingest_schema import INGEST_COMPONENTS

__all__ = ["SECURITY_SCHEMES", "components", "read_operation", "webhooks"]

_REF: Final = "#/components/schemas/{name}"

SECURITY_SCHEMES: Final[dict[str, Any]] = {
    "XKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Key",
        "description": "The public API key (`footfall keys create`)",
    },
    "XSign": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Sign",
        "description": (
            "Lowercase hex HMAC-SHA512, keyed with the key's secret, of the request URI "
            "exactly as sent: path + '?' + raw query string (nonce included)"
        ),
    },
    "IngestToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The location's ingest token from `footfall locations create`",
    },
}

_CODES: Final = [
    Code.KEY,
    Code.SIGNATURE,
    Code.NONCE,
    Code.PARAMETER,
    Code.LOCATION,
    Code.THROTTLED,
    Code.INTERNAL,
]


def _envelope(result: dict[str, Any], code: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["msg", "result", "code"],
        "properties": {"msg": {"type": "string"}, "result": result, "code": code},
        "additionalProperties": False,
    }


ERROR_ENVELOPE: Final = _envelope(
    {"type": "array", "maxItems": 0}, {"type": "integer", "enum": _CODES}
)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_ENVELOPE}}}


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param is NONCE,
        "description": param.description,
        "schema": param.schema,
    }
    if param.is_list:  # one value or a comma-separated list
        out["style"] = "form"
        out["explode"] = False
    out["example"] = _typed(param.schema, param.example)
    return out


def _typed(schema: dict[str, Any], text: str) -> Any:
    """`text` (as written on a command line) as a value of `schema`."""
    if schema.get("type") == "array":
        return [_typed(schema["items"], item) for item in text.split(",")]
    return int(text) if schema.get("type") == "integer" else text


def _responses(endpoint: Endpoint) -> dict[int | str, dict[str, Any]]:
    item = endpoint.item.__name__
    answer = _envelope(
        {"type": "array", "items": {"$ref": _REF.format(name=item)}},
        {"type": "integer", "const": Code.OK},
    )
    return {
        200: {
            "description": f"A list of {item} items",
            "content": {"application/json": {"schema": answer}},
        },
        400: _error("Code 4: a query parameter is malformed; the message names it"),
        401: _error(
            "Code 1: X-Key missing, unknown or revoked; 2: X-Sign missing or wrong; "
            "3: nonce missing or not greater than the last one accepted (the message "
            "names that one)"
        ),
        404: _error("Code 5: location_id is not a location of this key's account"),
        429: {
            **_error("Code 6: throttled; wait Retry-After seconds"),
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        },
        500: _error("Code 7: internal error"),
    }


def read_operation(endpoint: Endpoint) -> dict[str, Any]:
    """The keyword arguments of the endpoint's route that describe it in the document."""
    return {
        "responses": _responses(endpoint),
        "openapi_extra": {
            "parameters": [
                _parameter(NONCE),
                *(_parameter(PARAMETERS[name]) for name in endpoint.params),
            ],
            "security": [{"XKey": [], "XSign": []}],
        },
    }


_WEBHOOK_TYPES: Final = [body for body, _summary in read_items.WEBHOOKS.values()]
(_WEBHOOK_SCHEMAS, _ITEM_COMPONENTS) = msgspec.json.schema_components(
    [*read_items.ITEMS, *_WEBHOOK_TYPES], ref_template=_REF
)
_WEBHOOK_HEADERS: Final = {
    "webhook-id": "Stable across the retries of one delivery",
    "webhook-timestamp": "Seconds since the epoch of this attempt",
    "webhook-signature": 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">',
}


def components() -> dict[str, Any]:
    """`components.schemas`: answer items, webhook bodies, ingest bodies."""
    return {
        **_ITEM_COMPONENTS,
        **INGEST_COMPONENTS,
        "ErrorEnvelope": ERROR_ENVELOPE,
    }


def webhooks() -> dict[str, Any]:
    """OpenAPI 3.1 `webhooks`: what Footfall POSTs to a receiver, kind by kind."""
    out: dict[str, Any] = {}
    kinds = zip(read_items.WEBHOOKS.items(), _WEBHOOK_SCHEMAS[-len(_WEBHOOK_TYPES) :], strict=True)
    for (kind, (_body, summary)), schema in kinds:
        out[kind] = {
            "post": {
                "summary": summary,
                "description": (
                    f"`footfall webhooks create --kind {kind}`; Standard Webhooks headers; "
                    "retried on any answer but 2xx (410 disables the endpoint)"
                ),
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": True,
                        "description": description,
                        "schema": {"type": "string"},
                    }
                    for name, description in _WEBHOOK_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "responses": {"2XX": {"description": "Delivered"}},
            }
        }
    return out
