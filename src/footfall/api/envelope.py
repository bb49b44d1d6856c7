"""The answer envelope every Footfall API uses: `{"msg", "result", "code"}`.

Code 0 is success; the non-zero codes are those of docs/api.md's ingest and read APIs. Encoding
goes through
msgspec so large answers (a 10,000-event page) cost little.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from starlette.responses import Response

__all__ = ["Code", "envelope", "error", "success"]

_ENCODER: Final = msgspec.json.Encoder()


class Code:
    OK = 0
    KEY = 1
    SIGNATURE = 2
    NONCE = 3
    PARAMETER = 4
    LOCATION = 5
    THROTTLED = 6
    INTERNAL = 7


class _JSON(Response):
    media_type = "application/json"


def envelope(
    result: Any,
    *,
    msg: str = "success",
    code: int = Code.OK,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = _ENCODER.encode({"msg": msg, "result": result, "code": code})
    return _JSON(body, status_code=status, headers=headers)


def success(result: Any) -> Response:
    return envelope(result)


def error(
    status: int, code: int, msg: str, result: Any = None, headers: Mapping[str, str] | None = None
) -> Response:
    return envelope(
        [] if result is None else result, msg=msg, code=code, status=status, headers=headers
    )
