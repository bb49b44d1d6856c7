"""Around every HTTP request: a request id, its duration in the metrics, one access line.

- The request id is the client's `X-Request-ID` when it is a sane token (1-128 letters,
  digits, `.`, `_`, `-`), else a new random one; it is echoed in the answer's
  `X-Request-ID` and carried by every log line written for the request (`footfall.logs`).
- `footfall_http_request_duration_seconds` is labelled by the route's template
  (`/feed/report/{token}`, never the token itself; `/docs`, `/openapi.json` and the
  dashboard's `/assets/{path}` too), so a scan of random paths cannot grow the number of
  series: only paths no route serves are `unmatched`.
- `footfall.access` logs one line per request (client address, method, path, route,
  status, milliseconds), shown in the JSON log format. The client address is the TCP
  peer's, or the one `X-Forwarded-For` names when uvicorn trusts the peer as a proxy
  (`footfall serve` passes it the proxies the operator configured, docs/operations.md).

A plain ASGI middleware (no BaseHTTPMiddleware): it costs a clock read and a dict update
per request and never buffers a body.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
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
    if isinstance(path, str) and path:
        return path
    # Starlette's own routes (the OpenAPI document, /docs) do not put themselves in the
    # scope as FastAPI's do, but leave the endpoint that served the request there; a mount
    # (the dashboard's /assets) leaves its path in `root_path`.
    endpoint = scope.get("endpoint")
    mounted_at = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
    for candidate in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        if isinstance(candidate, Mount):
            if mounted_at and candidate.path == mounted_at:
                return f"{candidate.path}/{{path}}"
        elif endpoint is not None and getattr(candidate, "endpoint", None) is endpoint:
            return str(getattr(candidate, "path", "unmatched"))
    return "unmatched"


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


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
                client = _client(scope)
                access.info(
                    "%s %s %d",
                    method,
                    scope.get("path", ""),
                    status,
                    extra={
                        "client": client,
                        "method": method,
                        "path": scope.get("path", ""),
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            logs.end_request(token)
