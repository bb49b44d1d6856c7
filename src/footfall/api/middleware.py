"""Around every HTTP request: a request id, its duration in the metrics, one access line.

- The request id is the client's `X-Request-ID` when it is a sane token (1-128 letters,
  digits, `.`, `_`, `-`), else a new random one; it is echoed in the answer's
  `X-Request-ID` and carried by every log line written for the request (`footfall.logs`).
- `footfall_http_request_duration_seconds` is labelled by the route's template
  (`/feed/report/{token}`, never the token itself), so a scan of random paths cannot grow
  the number of series: unknown paths are all `unmatched`.
- `footfall.access` logs one line per request (method, path, route, status, milliseconds),
  shown in the JSON log format.

A plain ASGI middleware (no BaseHTTPMiddleware): it costs a clock read and a dict update
per request and never buffers a body.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from footfall import logs
from footfall.telemetry import HTTP_REQUEST_SECONDS

__all__ = ["RequestObserver"]

access = logging.getLogger("footfall.access")
_SANE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,128}$")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _SANE_ID.match(value):
            return str(value.decode("ascii"))
    return secrets.token_hex(8)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = logs.start_request(request_id)
        status = 500  # unless an answer starts: an exception that escapes is a 500
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            method = scope.get("method", "")
            HTTP_REQUEST_SECONDS.labels(route, method, str(status)).observe(elapsed)
            if access.isEnabledFor(logging.INFO):
                access.info(
                    "%s %s %d",
                    method,
                    scope.get("path", ""),
                    status,
                    extra={
                        "method": method,
                        "path": scope.get("path", ""),
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            logs.end_request(token)
