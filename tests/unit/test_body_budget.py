"""The body budget's admission rule, driven in-process with an ASGI app that holds its
body until told (no sockets, no sleeps): sizes as declared or the largest when chunked,
a wait that ends when the budget frees, 503 when the wait runs out, and a body larger
than the whole budget admitted when it is alone."""

from __future__ import annotations

import asyncio
from typing import Any

from footfall.api.body_budget import BodyBudget

MiB = 1024 * 1024


class HoldingApp:
    """Answers 200 once `release` is set; records which requests got in."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered.append(scope["path"])
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def request(path: str, headers: list[tuple[bytes, bytes]], method: str = "POST") -> Any:
    return {"type": "http", "method": method, "path": path, "headers": headers}


async def call(app: BodyBudget, scope: Any) -> int:
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def length(n: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(n).encode())]


def test_a_new_body_waits_and_goes_through_when_the_budget_frees() -> None:
    async def scenario() -> None:
        inner = HoldingApp()
        app = BodyBudget(inner, limit=16 * MiB, largest=16 * MiB, wait=3600)
        first = asyncio.create_task(call(app, request("/a", length(10 * MiB))))
        while "/a" not in inner.entered:
            await asyncio.sleep(0)
        second = asyncio.create_task(call(app, request("/b", length(10 * MiB))))
        small = asyncio.create_task(call(app, request("/c", length(6 * MiB))))
        for _ in range(100):
            await asyncio.sleep(0)
        assert inner.entered == ["/a", "/c"]  # /b waits; /c fits beside /a
        inner.release.set()
        assert list(await asyncio.gather(first, second, small)) == [200, 200, 200]
        assert inner.entered == ["/a", "/c", "/b"]

    asyncio.run(scenario())


def test_when_the_wait_runs_out_the_answer_is_503_with_retry_after() -> None:
    async def scenario() -> None:
        inner = HoldingApp()
        app = BodyBudget(inner, limit=16 * MiB, largest=16 * MiB, wait=0)
        held = asyncio.create_task(call(app, request("/a", [(b"transfer-encoding", b"chunked")])))
        while "/a" not in inner.entered:
            await asyncio.sleep(0)
        sent: list[Any] = []

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(request("/b", length(1)), receive, send)
        assert sent[0]["status"] == 503
        assert (b"retry-after", b"1") in sent[0]["headers"]
        assert "/b" not in inner.entered  # refused before the app saw it
        # Requests without a body never wait.
        no_body = asyncio.create_task(call(app, request("/c", [], method="GET")))
        for _ in range(10):
            await asyncio.sleep(0)
        assert "/c" in inner.entered
        inner.release.set()
        assert list(await asyncio.gather(held, no_body)) == [200, 200]

    asyncio.run(scenario())


def test_a_body_larger_than_the_whole_budget_is_admitted_alone() -> None:
    async def scenario() -> None:
        inner = HoldingApp()
        inner.release.set()
        app = BodyBudget(inner, limit=1 * MiB, largest=16 * MiB, wait=0)
        assert await call(app, request("/big", length(16 * MiB))) == 200
        # A declared size beyond what any route accepts counts as the largest (refused unread).
        assert await call(app, request("/huge", length(10**12))) == 200

    asyncio.run(scenario())
