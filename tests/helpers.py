"""Builders for the payloads tests send: a store's config and its events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from footfall.domain.times import now_ms
from footfall.services.ingest import BatchResult, ingest_locally
from footfall.store.db import Database
from footfall.store.locations import get_location

TEST_RETENTION_DAYS = 3650.0  # see tests/conftest.py

STORE_CONFIG: dict[str, Any] = {
    "version": "3.2.1",
    "channels": [
        {
            "id": "cam-door",
            "name": "Entrance",
            "paid": 1,
            "triggers": [
                {"id": "t-enter", "name": "Enter", "type": "Line"},
                {"id": "t-exit", "name": "Exit", "type": "Line"},
            ],
        },
        {
            "id": "cam-floor",
            "name": "Floor",
            "paid": 0,
            "triggers": [
                {"id": "t-shelf", "name": "Shelf", "type": "Zone"},
                {"id": "t-scene", "name": "Scene", "type": "Scene"},
            ],
        },
    ],
}

TRIGGER_CHANNEL = {
    "t-enter": "cam-door",
    "t-exit": "cam-door",
    "t-shelf": "cam-floor",
    "t-scene": "cam-floor",
}


class ManualClock:
    """An injectable clock (epoch ms) that moves only when a test says so."""

    def __init__(self, start: datetime | int) -> None:
        self.ms = start if isinstance(start, int) else int(start.timestamp() * 1000)

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)

    def set(self, moment: datetime) -> None:
        self.ms = int(moment.timestamp() * 1000)


def heartbeats(
    channel: str, start: datetime, end: datetime, *, every_s: int = 30, status: str = "ok"
) -> list[dict[str, str]]:
    """A channel's heartbeats every `every_s` seconds in [start, end)."""
    out = []
    moment = start
    while moment < end:
        out.append({"id": channel, "status": status, "at": iso(moment)})
        moment += timedelta(seconds=every_s)
    return out


def post_heartbeats(http: httpx.Client, token: str, beats: list[Any]) -> httpx.Response:
    return http.post("/ingest/v1/heartbeat", json={"channels": beats}, headers=bearer(token))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def recent(minutes_ago: float = 60) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def event(
    record_id: int,
    *,
    trigger: str = "t-enter",
    event_type: str = "TripwireCrossed",
    when: datetime | str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    moment = when if when is not None else recent()
    return {
        "record_id": record_id,
        "event_type": event_type,
        "trigger_id": trigger,
        "channel_id": TRIGGER_CHANNEL.get(trigger, "cam-door"),
        "object_id": record_id,
        "origin": "Pedestrian",
        "suborigin": "Unknown",
        "event_time": moment if isinstance(moment, str) else iso(moment),
        **extra,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def put_config(http: httpx.Client, token: str, config: dict[str, Any] | None = None) -> Any:
    answer = http.put("/ingest/v1/config", json=config or STORE_CONFIG, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def post_events(http: httpx.Client, token: str, events: list[dict[str, Any]]) -> httpx.Response:
    return http.post("/ingest/v1/events", json=events, headers=bearer(token))


class Signer:
    """Signs read-API requests the way an integrator's code does (independently of the SDK)."""

    def __init__(self, public_key: str, secret: str, start_nonce: int = 1) -> None:
        self.public_key = public_key
        self.secret = secret
        self.nonce = start_nonce

    def next_nonce(self) -> int:
        self.nonce += 1
        return self.nonce

    def headers(self, uri: str) -> dict[str, str]:
        import hashlib
        import hmac

        digest = hmac.new(self.secret.encode(), uri.encode(), hashlib.sha512).hexdigest()
        return {"X-Key": self.public_key, "X-Sign": digest}

    def get(self, http: httpx.Client, path: str, query: str = "") -> httpx.Response:
        """GET /service/api/v1{path}?nonce=N[&query], `query` already percent-encoded."""
        uri = f"/service/api/v1{path}?nonce={self.next_nonce()}" + (f"&{query}" if query else "")
        return http.get(uri, headers=self.headers(uri))

    def get_raw(self, http: httpx.Client, uri: str) -> httpx.Response:
        """GET exactly this URI (nonce included by the caller), signed."""
        return http.get(uri, headers=self.headers(uri))


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 0
    assert body["msg"] == "success"
    return body["result"]


def ingest_directly(
    db: Database,
    location_id: int,
    *batches: list[dict[str, Any]],
    clock: Callable[[], int] | None = None,
    config: dict[str, Any] | None = None,
    retention_days: float = TEST_RETENTION_DAYS,
) -> list[BatchResult]:
    """Through the ingest service, as the HTTP API would (without HTTP): declare `config`
    (STORE_CONFIG when the location has none yet), then store each batch (refusing events
    older than `retention_days`, ten years unless a test says otherwise)."""
    with db.read() as conn:
        found = get_location(conn, location_id)
    assert found is not None
    if config is None and found.config_version == 0:
        config = STORE_CONFIG
    return ingest_locally(
        db,
        location_id,
        batches,
        config=config,
        clock=clock or now_ms,
        retention_days=retention_days,
    )
