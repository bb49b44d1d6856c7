"""Webhook rules (docs/api.md, Webhooks) as pure functions: payload shapes, Standard Webhooks
signing,
and the retry schedule.

Signing: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
where the key is the base64-decoded part of the endpoint secret `whsec_...`; every attempt
is signed afresh with its own timestamp.

Retry schedule: after a failed attempt n (1-based) the next one comes `SCHEDULE[n-1]`
later — about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — and after the last the delivery
is failed. A 429 or 503 with Retry-After waits the longer of the two (at most 10 h).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any, Final

from footfall.domain.times import format_utc

__all__ = [
    "KINDS",
    "MAX_EVENTS_PER_DELIVERY",
    "SCHEDULE",
    "event_payload",
    "format_utc",
    "new_secret",
    "new_webhook_id",
    "next_delay",
    "sign",
    "verify",
]

KINDS: Final = ("events", "occupancy", "queue", "revisions")
MAX_EVENTS_PER_DELIVERY: Final = 100
SCHEDULE: Final[tuple[float, ...]] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_RETRY_AFTER: Final = 36000.0


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_webhook_id() -> str:
    return "msg_" + secrets.token_hex(16)


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, webhook_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """What a receiver does: any `v1,` signature in the header matches, in constant time."""
    expected = sign(secret, webhook_id, timestamp, body).encode()
    return any(hmac.compare_digest(expected, part.encode()) for part in header.split())


def next_delay(
    attempts: int, retry_after: float | None = None, schedule: Sequence[float] = SCHEDULE
) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None when exhausted."""
    if attempts > len(schedule):
        return None
    delay = schedule[attempts - 1]
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def event_payload(row: Sequence[Any]) -> dict[str, Any]:
    """One event of an `events` delivery, from a stored EventRow (location_id first)."""
    (
        location_id,
        record_id,
        event_type,
        trigger_id,
        channel_id,
        object_id,
        origin,
        suborigin,
        age_range,
        gender,
        snapshot_id,
        event_time,
    ) = row
    return {
        "record_id": record_id,
        "event_type": event_type,
        "snapshot_id": snapshot_id,
        "trigger_id": trigger_id,
        "origin": origin,
        "suborigin": suborigin,
        "age_range": age_range,
        "gender": gender,
        "id": None,
        "channel_id": channel_id,
        "object_id": object_id,
        "location_id": location_id,
        "event_time": format_utc(event_time),
    }
