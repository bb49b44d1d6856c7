"""Claiming webhook deliveries for an attempt, and recording the attempt.

Claiming is the heart of it: `claim_next` picks an endpoint's oldest due delivery and,
in the same statement set, pushes its `next_attempt_at` past the attempt's timeout (the
lease). It first locks the endpoint's row (PostgreSQL `FOR UPDATE SKIP LOCKED`; on SQLite
the write transaction serialises) and claims nothing while another delivery of the
endpoint holds an unexpired lease: dispatchers in several processes never take the same
delivery, and never have two attempts to one endpoint in flight at once.
A dispatcher that dies mid-attempt leaves a lease that simply expires: the delivery is
attempted again, with the same `webhook-id`.

Each claim stamps a fresh random `claim_token`; `record_attempt` writes only while that
token still holds an unexpired lease. So an attempt that outlived its lease (a stalled
process) is never recorded over the attempt of whoever claimed the delivery next.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update

from footfall.store.schema import webhook_attempts, webhook_deliveries, webhook_endpoints

__all__ = ["Claimed", "claim_next", "due_endpoints", "of_endpoint", "record_attempt"]


@dataclass(frozen=True)
class Claimed:
    location_id: int
    id: int
    endpoint_id: int
    webhook_id: str
    body: str
    attempts: int
    retry_base: int
    url: str
    secret: str
    claim_token: str = ""


def of_endpoint() -> ColumnElement[bool]:
    """A delivery's endpoint: the same location (the distribution column) and id."""
    d, e = webhook_deliveries, webhook_endpoints
    return and_(e.c.location_id == d.c.location_id, e.c.id == d.c.endpoint_id)


def due_endpoints(conn: Connection, now: int) -> list[tuple[int, int, int]]:
    """(location_id, endpoint_id, earliest next_attempt_at) of enabled endpoints with
    pending work (the dispatcher's poll: every location at once)."""
    d, e = webhook_deliveries, webhook_endpoints
    rows = conn.execute(
        select(d.c.location_id, d.c.endpoint_id, func.min(d.c.next_attempt_at))
        .join(e, of_endpoint())
        .where(d.c.status == "pending", e.c.enabled == 1)
        .group_by(d.c.location_id, d.c.endpoint_id)
    ).all()
    return [(int(location), int(endpoint), int(when)) for location, endpoint, when in rows]


def claim_next(
    conn: Connection, location_id: int, endpoint_id: int, now: int, lease_ms: int
) -> Claimed | None:
    """Take the endpoint's oldest due pending delivery for one attempt (see module doc),
    unless an attempt to the endpoint is in flight: one at a time per endpoint, in every
    process together, so a receiver sees them in order and never two at once.

    The endpoint's row is the lock: taken first (PostgreSQL `FOR UPDATE SKIP LOCKED`: a
    process finding another one claiming for the endpoint gives up at once, and the poll
    comes back; SQLite's write transaction serialises), then an unexpired lease on any of
    its deliveries means one is in flight. Leases expire, so a dead process blocks the
    endpoint no longer than its lease.
    """
    if not _endpoint_free(conn, location_id, endpoint_id, now):
        return None
    d = webhook_deliveries
    pick = (
        select(d.c.location_id, d.c.id)
        .where(
            d.c.location_id == location_id,
            d.c.endpoint_id == endpoint_id,
            d.c.status == "pending",
            d.c.next_attempt_at <= now,
        )
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(1)
    )
    found = conn.execute(pick).one_or_none()
    if found is None:
        return None
    key = and_(d.c.location_id == found.location_id, d.c.id == found.id)
    token = secrets.token_hex(16)
    conn.execute(update(d).where(key).values(next_attempt_at=now + lease_ms, claim_token=token))
    return _claimed(conn, key, token)


def _endpoint_free(conn: Connection, location_id: int, endpoint_id: int, now: int) -> bool:
    """The endpoint is enabled, its row is ours to claim for (locked on PostgreSQL), and
    no attempt to it is in flight (an unexpired lease on one of its deliveries)."""
    d, e = webhook_deliveries, webhook_endpoints
    endpoint = select(e.c.id).where(
        e.c.location_id == location_id, e.c.id == endpoint_id, e.c.enabled == 1
    )
    if conn.dialect.name == "postgresql":
        endpoint = endpoint.with_for_update(skip_locked=True)
    if conn.execute(endpoint).one_or_none() is None:
        return False  # disabled, gone, or another process is claiming for it right now
    in_flight = (
        select(d.c.id)
        .where(
            d.c.location_id == location_id,
            d.c.endpoint_id == endpoint_id,
            d.c.status == "pending",
            d.c.claim_token.is_not(None),
            d.c.next_attempt_at > now,
        )
        .limit(1)
    )
    return conn.execute(in_flight).first() is None


def _claimed(conn: Connection, key: ColumnElement[bool], token: str) -> Claimed | None:
    """The delivery just claimed, with its endpoint's URL and secret (None: disabled)."""
    d, e = webhook_deliveries, webhook_endpoints
    row = conn.execute(
        select(
            d.c.location_id,
            d.c.id,
            d.c.endpoint_id,
            d.c.webhook_id,
            d.c.body,
            d.c.attempts,
            d.c.retry_base,
            e.c.url,
            e.c.secret,
            e.c.enabled,
        )
        .join(e, of_endpoint())
        .where(key)
    ).one()
    if not row.enabled:
        return None
    return Claimed(
        row.location_id,
        row.id,
        row.endpoint_id,
        row.webhook_id,
        row.body,
        row.attempts,
        row.retry_base,
        row.url,
        row.secret,
        token,
    )


def record_attempt(
    conn: Connection,
    claimed: Claimed,
    *,
    at: int,
    status: int | None,
    latency_ms: int,
    error: str | None,
    outcome: str,
    next_attempt_at: int,
    now: int,
) -> bool:
    """Log an attempt and move the delivery to `outcome` (pending, delivered, failed).

    Only while `claimed` still holds the delivery's lease at `now` (see module doc);
    False, and nothing written, when the claim has lapsed.
    """
    d = webhook_deliveries
    attempt = claimed.attempts + 1
    held = conn.execute(
        update(d)
        .where(
            d.c.location_id == claimed.location_id,
            d.c.id == claimed.id,
            d.c.claim_token == claimed.claim_token,
            d.c.status == "pending",
            d.c.next_attempt_at >= now,
        )
        .values(
            attempts=attempt,
            status=outcome,
            last_status=status,
            last_error=error,
            next_attempt_at=next_attempt_at,
            delivered_at=at if outcome == "delivered" else None,
            claim_token=None,
        )
    ).rowcount
    if not held:
        return False
    conn.execute(
        insert(webhook_attempts).values(
            location_id=claimed.location_id,
            delivery_id=claimed.id,
            attempt=attempt,
            at=at,
            status=status,
            latency_ms=latency_ms,
            error=error,
        )
    )
    return True
