"""A cap on the bytes of request bodies held in memory at once, over all requests.

Invariant: a request with a body is admitted only when its bytes fit in the budget
(`FOOTFALL_BODY_BYTES_IN_FLIGHT`, docs/operations.md); its bytes stay counted until its
answer is sent. The size is the declared Content-Length, or the largest body any route
accepts when none is declared (a chunked body may grow to it). A request that does not fit
waits up to `wait` seconds for earlier bodies to finish, then gets 503 with Retry-After
before any of its body is read; it never takes memory it was not given. A body larger than
the whole budget is admitted alone (when nothing else is in flight), so no size the
routes accept is refused forever.

Per process: `serve --workers N` gives each worker its own budget.
"""

from __future__ import annotations

import asyncio
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from footfall.api.envelope import Code, error

__all__ = ["BodyBudget"]

_METHODS_WITHOUT_BODY: Final = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._changed = asyncio.Condition()

    def _fits(self, size: int) -> bool:
        return self.in_flight == 0 or self.in_flight + size <= self.limit

    async def acquire(self, size: int, wait: float) -> bool:
        async with self._changed:
            if not self._fits(size):
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: self._fits(size)), timeout=wait
                    )
                except TimeoutError:
                    return False
            self.in_flight += size
            return True

    async def release(self, size: int) -> None:
        async with self._changed:
            self.in_flight -= size
            self._changed.notify_all()


def _declared_size(scope: Scope, largest: int) -> int:
    """The bytes this request's body may take (0: none), as declared or at most."""
    length = None
    chunked = False
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            chunked = True
    if length is not None and length.strip().isdigit():
        return min(int(length), largest)  # a larger one is refused by its route unread
    if chunked:
        return largest
    return 0


class BodyBudget:
    """Pure ASGI middleware (bodies are never buffered here)."""

    def __init__(self, app: ASGIApp, *, limit: int, largest: int, wait: float) -> None:
        self.app = app
        self.largest = largest
        self.wait = wait
        self._budget = _Budget(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in _METHODS_WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        size = _declared_size(scope, self.largest)
        if size == 0:
            await self.app(scope, receive, send)
            return
        if not await self._budget.acquire(size, self.wait):
            busy = error(
                503,
                Code.THROTTLED,
                f"the server is already receiving {self._budget.limit} bytes of request "
                "bodies (FOOTFALL_BODY_BYTES_IN_FLIGHT): retry after Retry-After seconds",
                headers={"Retry-After": "1", "Connection": "close"},
            )
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self._budget.release(size)
