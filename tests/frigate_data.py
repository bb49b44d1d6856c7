"""Recorded Frigate `frigate/events` messages (tests/data/frigate/events.jsonl), in the
shape Frigate's MQTT documentation gives: two cameras, a person crossing two zones, a car
confirmed while already in a zone, a person on another camera, and a false positive.

Their times are from 2020; `shifted` moves every timestamp so that the last message is a
minute ago (the ingest API refuses events older than the retention period)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parent / "data" / "frigate" / "events.jsonl"
_TIME_FIELDS = ("frame_time", "start_time", "end_time", "snapshot_time")


def recorded() -> list[dict[str, Any]]:
    return [json.loads(line) for line in RECORDED.read_text().splitlines() if line.strip()]


def _latest(messages: list[dict[str, Any]]) -> float:
    return max(
        float(m[side][f])
        for m in messages
        for side in ("before", "after")
        for f in _TIME_FIELDS
        if m[side].get(f) is not None
    )


def shifted(messages: list[dict[str, Any]], *, end: float | None = None) -> list[dict[str, Any]]:
    offset = (end if end is not None else time.time() - 60) - _latest(messages)

    def move(state: dict[str, Any]) -> dict[str, Any]:
        moved = dict(state)
        for f in _TIME_FIELDS:
            if moved.get(f) is not None:
                moved[f] = moved[f] + offset
        if isinstance(moved.get("snapshot"), dict):
            moved["snapshot"] = {**moved["snapshot"]}
            moved["snapshot"]["frame_time"] += offset
        return moved

    return [{**m, "before": move(m["before"]), "after": move(m["after"])} for m in messages]


def parked_car(
    camera: str, zone: str, arrived: float, still_there: float, left: float | None = None
) -> list[dict[str, Any]]:
    """A car that drives into `zone` at `arrived` (epoch seconds) and parks: Frigate's
    `new` (reported in the zone at once), an `update` at `still_there` saying it is still
    there (stationary), and, with `left`, its `end`. Shaped like the recorded car message,
    whose id is replaced so that each call is a car of its own."""
    template = next(m for m in recorded() if m["after"].get("label") == "car")
    object_key = f"{arrived:.6f}-parked"

    def state(at: float, zones: list[str], *, stationary: bool, end: float | None) -> Any:
        moved = {**template["after"], "id": object_key, "camera": camera}
        moved.update(
            frame_time=at,
            start_time=arrived,
            end_time=end,
            current_zones=zones,
            entered_zones=[zone],
            stationary=stationary,
            false_positive=False,
            snapshot={**template["after"]["snapshot"], "frame_time": at},
        )
        return moved

    first = state(arrived, [zone], stationary=False, end=None)
    still = state(still_there, [zone], stationary=True, end=None)
    messages = [
        {"type": "new", "before": first, "after": first},
        {"type": "update", "before": first, "after": still},
    ]
    if left is not None:
        gone = state(left, [zone], stationary=False, end=left)
        messages.append({"type": "end", "before": still, "after": gone})
    return messages
