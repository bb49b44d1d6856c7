"""Builders for the payloads tests send: a store's config and its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

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
