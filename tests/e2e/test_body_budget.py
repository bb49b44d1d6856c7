"""The cap on request-body bytes in flight (docs/operations.md), over real HTTP: while
earlier bodies hold the budget, a new body gets 503 with Retry-After before any of it is
read, requests without a body pass, and the budget is free again once the bodies end.
Both engines. (Waiting for the budget: tests/unit/test_body_budget.py.)"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from footfall.config import Settings
from footfall.domain.ingest import MAX_BODY_BYTES
from footfall.store.db import Database
from tests.conftest import RunningServer, Site

pytestmark = pytest.mark.slow

EVENTS = "/ingest/v1/events"


def held_upload(url: str, token: str, size: int) -> socket.socket:
    """A POST that declares `size` bytes, sends a few and keeps the rest back."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=30)
    conn.sendall(
        (
            f"POST {EVENTS} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n["
        ).encode()
    )
    return conn


def until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll a condition of the running server (the uploads race on separate sockets)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


@pytest.fixture
def budget_settings(settings: Settings) -> Settings:
    return replace(settings, body_bytes_in_flight=2 * MAX_BODY_BYTES, body_wait=0.0)


def test_a_body_beyond_the_budget_gets_503_with_retry_after(
    budget_settings: Settings, db: Database, site: Site
) -> None:
    with RunningServer(budget_settings, db) as server, httpx.Client(base_url=server.url) as http:
        held = [held_upload(server.url, site.ingest_token, MAX_BODY_BYTES) for _ in range(2)]
        headers = {"Authorization": f"Bearer {site.ingest_token}"}
        busy: list[httpx.Response] = []

        def refused() -> bool:
            answer = http.post(EVENTS, content=b"[]", headers=headers)
            busy.append(answer)
            return answer.status_code == 503

        until(refused, "a third body refused while two 16 MiB bodies are held")
        answer = busy[-1]
        assert answer.headers["retry-after"] == "1"
        assert "FOOTFALL_BODY_BYTES_IN_FLIGHT" in answer.json()["msg"]
        assert http.get("/healthz").status_code == 200  # requests without a body pass
        for conn in held:
            conn.close()
        until(
            lambda: http.post(EVENTS, content=b"[]", headers=headers).status_code == 200,
            "the budget freed once the held bodies ended",
        )
