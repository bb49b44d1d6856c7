"""Validation of `POST /ingest/v1/heartbeat` bodies, as pure functions.

Body: `{"channels": [{"id", "status", "at"}, ...]}`, up to `MAX_HEARTBEATS` items (one
channel may appear many times: an agent delivers the heartbeats it spooled while the
server was away). Every rule of an event's time applies to `at` (the one instant parser;
at most 10 minutes ahead; not older than the retention period), `id` must be a channel
the agent declared, `status` one of `ok`, `no_signal`, `sabotage`. Atomic like an events
batch: any problem and nothing is stored; every problem is listed (index, field,
message; at most 100). Unknown fields are ignored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec

from footfall.domain.coverage import STATUSES
from footfall.domain.ingest import (
    FUTURE_TOLERANCE_MS,
    MAX_PROBLEMS,
    MS_PER_DAY,
    TOO_DEEP,
    BodyError,
    Problem,
)
from footfall.domain.times import InstantError, parse_instant

__all__ = ["MAX_HEARTBEATS", "Heartbeat", "HeartbeatIn", "check_heartbeats"]

MAX_HEARTBEATS: Final = 10_000
_DECODER: Final = msgspec.json.Decoder()
_SHAPE: Final = 'expected {"channels": [{"id": ..., "status": "ok", "at": ...}, ...]}'


class ChannelBeat(msgspec.Struct):
    """One channel's liveness at one instant (the body's shape, for the OpenAPI schema)."""

    id: str
    status: Literal["ok", "no_signal", "sabotage"]
    at: str


class HeartbeatIn(msgspec.Struct):
    channels: list[ChannelBeat]


@dataclass(frozen=True)
class Heartbeat:
    channel_id: str
    ok: bool
    at_ms: int


def _decode(body: bytes) -> list[Any]:
    try:
        document = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BodyError(f"the body is not JSON ({exc}): {_SHAPE}") from None
    except RecursionError:
        raise BodyError(TOO_DEEP) from None
    if not isinstance(document, dict) or not isinstance(document.get("channels"), list):
        raise BodyError(f"the body is not a heartbeat object: {_SHAPE}")
    items: list[Any] = document["channels"]
    if len(items) > MAX_HEARTBEATS:
        raise BodyError(
            f"the body has {len(items)} heartbeats; at most {MAX_HEARTBEATS} are accepted "
            "per request: split it",
            too_large=True,
        )
    return items


def check_heartbeats(
    body: bytes, channels: Collection[str], now_ms: int, *, retention_days: float | None
) -> tuple[list[Heartbeat], list[Problem]]:
    """The heartbeats of `body`, or every problem in it. Raises BodyError (400/413) when
    the body is not a heartbeat object at all."""
    items = _decode(body)
    problems: list[Problem] = []
    beats: list[Heartbeat] = []
    latest = now_ms + FUTURE_TOLERANCE_MS
    oldest = None if retention_days is None else now_ms - int(retention_days * MS_PER_DAY)

    def problem(index: int, field: str, message: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(index, field, message))

    for index, item in enumerate(items):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not isinstance(item, dict):
            problem(index, "", 'expected an object {"id", "status", "at"}')
            continue
        before = len(problems)
        channel, status, at = item.get("id"), item.get("status"), item.get("at")
        if not isinstance(channel, str):
            problem(index, "id", "required: the channel id, a string")
        elif channel not in channels:
            problem(
                index,
                "id",
                f"channel {channel[:64]!r} is not declared: PUT /ingest/v1/config first",
            )
        if not isinstance(status, str) or status not in STATUSES:
            shown = repr(status)[:40]  # whatever was sent, briefly: the answer stays small
            problem(index, "status", f"{shown} is not one of {', '.join(STATUSES)}")
        when = 0
        if not isinstance(at, str):
            problem(index, "at", "required: the instant of the heartbeat, e.g. 2026-11-25T10:15Z")
        else:
            try:
                when = parse_instant(at)
            except InstantError as exc:
                problem(index, "at", str(exc))
            else:
                if when > latest:
                    problem(
                        index,
                        "at",
                        f"{at!r} is more than 10 minutes in the future: check the agent's clock",
                    )
                elif oldest is not None and when < oldest:
                    problem(
                        index,
                        "at",
                        f"{at!r} is older than the retention period ({retention_days:g} days): "
                        "check the agent's clock",
                    )
        if len(problems) == before:
            assert isinstance(channel, str)
            beats.append(Heartbeat(channel, status == "ok", when))
    return beats, problems
