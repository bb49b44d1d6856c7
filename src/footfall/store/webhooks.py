"""Webhook endpoints, the delivery outbox and the attempt log.

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

Endpoints are keyed by (location_id, id) (ids from `store.ids`, unique across locations,
so the CLI names an endpoint by its id alone). Whatever runs per delivery names the
location too, and joins deliveries to endpoints on both columns: on Citus that keeps the
claim (a `FOR UPDATE`, which Citus runs only on a single shard) and the attempt's record
on the location's shard.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from footfall.store.ids import new_ids
from footfall.store.locations import bump_webhooks_version
from footfall.store.schema import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_metric_state,
)

__all__ = [
    "Claimed",
    "EndpointRow",
    "claim_next",
    "delete_endpoint",
    "due_endpoints",
    "endpoints_of",
    "get_delivery",
    "get_endpoint",
    "insert_deliveries",
    "insert_endpoint",
    "list_deliveries",
    "list_endpoints",
    "metric_states",
    "record_attempt",
    "replay_delivery",
    "set_enabled",
    "upsert_metric_state",
]


@dataclass(frozen=True)
class EndpointRow:
    id: int
    account_id: int
    location_id: int
    channel_id: str | None
    kind: str
    url: str
    secret: str
    enabled: bool
    created_at: int


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


def _endpoint(row: Any) -> EndpointRow:
    return EndpointRow(
        row.id,
        row.account_id,
        row.location_id,
        row.channel_id,
        row.kind,
        row.url,
        row.secret,
        bool(row.enabled),
        row.created_at,
    )


def insert_endpoint(conn: Connection, endpoint: EndpointRow) -> int:
    (endpoint_id,) = new_ids(conn, "endpoints", 1)
    values = {**endpoint.__dict__, "id": endpoint_id, "enabled": int(endpoint.enabled)}
    bump_webhooks_version(conn, endpoint.location_id)
    conn.execute(insert(webhook_endpoints).values(**values))
    return endpoint_id


def _bump_for(conn: Connection, endpoint_id: int) -> int | None:
    """Tell ingest the endpoint's location changed; returns that location (None: no such
    endpoint)."""
    location = conn.execute(
        select(webhook_endpoints.c.location_id).where(webhook_endpoints.c.id == endpoint_id)
    ).scalar_one_or_none()
    if location is None:
        return None
    bump_webhooks_version(conn, int(location))
    return int(location)


def get_endpoint(conn: Connection, endpoint_id: int) -> EndpointRow | None:
    row = conn.execute(
        select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    ).one_or_none()
    return None if row is None else _endpoint(row)


def list_endpoints(conn: Connection, location_id: int | None = None) -> list[EndpointRow]:
    query = select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    if location_id is not None:
        query = query.where(webhook_endpoints.c.location_id == location_id)
    return [_endpoint(row) for row in conn.execute(query)]


def endpoints_of(conn: Connection, location_id: int, kind: str) -> list[EndpointRow]:
    """The enabled endpoints of one kind for a location (the ingest hot path asks this)."""
    return [
        _endpoint(row)
        for row in conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.location_id == location_id,
                webhook_endpoints.c.kind == kind,
                webhook_endpoints.c.enabled == 1,
            )
        )
    ]


def set_enabled(conn: Connection, endpoint_id: int, enabled: bool) -> bool:
    location_id = _bump_for(conn, endpoint_id)
    if location_id is None:
        return False
    e = webhook_endpoints
    return bool(
        conn.execute(
            update(e)
            .where(e.c.location_id == location_id, e.c.id == endpoint_id)
            .values(enabled=int(enabled))
        ).rowcount
    )


def delete_endpoint(conn: Connection, endpoint_id: int) -> bool:
    location_id = _bump_for(conn, endpoint_id)
    if location_id is None:
        return False
    state, d, e = webhook_metric_state, webhook_deliveries, webhook_endpoints
    conn.execute(
        delete(state).where(state.c.location_id == location_id, state.c.endpoint_id == endpoint_id)
    )
    conn.execute(
        delete(d).where(
            d.c.location_id == location_id, d.c.endpoint_id == endpoint_id, d.c.status == "pending"
        )
    )
    return bool(
        conn.execute(
            delete(e).where(e.c.location_id == location_id, e.c.id == endpoint_id)
        ).rowcount
    )


def insert_deliveries(
    conn: Connection,
    location_id: int,
    deliveries: Sequence[tuple[int, str, str]],
    now: int,
) -> None:
    """Queue (endpoint_id, webhook_id, body) deliveries for an immediate first attempt."""
    if not deliveries:
        return
    ids = new_ids(conn, "deliveries", len(deliveries))
    conn.execute(
        insert(webhook_deliveries),
        [
            {
                "location_id": location_id,
                "id": delivery_id,
                "endpoint_id": endpoint_id,
                "webhook_id": webhook_id,
                "body": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for delivery_id, (endpoint_id, webhook_id, body) in zip(ids, deliveries, strict=True)
        ],
    )


def _of_endpoint() -> ColumnElement[bool]:
    """A delivery's endpoint: the same location (the distribution column) and id."""
    d, e = webhook_deliveries, webhook_endpoints
    return and_(e.c.location_id == d.c.location_id, e.c.id == d.c.endpoint_id)


def due_endpoints(conn: Connection, now: int) -> list[tuple[int, int, int]]:
    """(location_id, endpoint_id, earliest next_attempt_at) of enabled endpoints with
    pending work (the dispatcher's poll: every location at once)."""
    d, e = webhook_deliveries, webhook_endpoints
    rows = conn.execute(
        select(d.c.location_id, d.c.endpoint_id, func.min(d.c.next_attempt_at))
        .join(e, _of_endpoint())
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
        .join(e, _of_endpoint())
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


def list_deliveries(
    conn: Connection, *, endpoint_id: int | None, failed_only: bool, limit: int
) -> Sequence[Any]:
    d = webhook_deliveries
    query = select(d).order_by(d.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(d.c.endpoint_id == endpoint_id)
    if failed_only:
        query = query.where(d.c.status == "failed")
    return conn.execute(query).all()


def get_delivery(conn: Connection, delivery_id: int) -> Any:
    return conn.execute(
        select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
    ).one_or_none()


def replay_delivery(conn: Connection, location_id: int, delivery_id: int, now: int) -> None:
    """Queue it for an immediate attempt and restart its retry schedule.

    A delivery whose attempt is in flight keeps its lease (replaying it must not let a
    second attempt start beside the running one): it goes again when the lease ends.
    """
    d = webhook_deliveries
    leased = and_(d.c.status == "pending", d.c.claim_token.is_not(None), d.c.next_attempt_at > now)
    conn.execute(
        update(d)
        .where(d.c.location_id == location_id, d.c.id == delivery_id)
        .values(
            status="pending",
            next_attempt_at=case((leased, d.c.next_attempt_at), else_=now),
            retry_base=d.c.attempts,
        )
    )


def metric_states(
    conn: Connection, location_id: int, endpoint_id: int, *, lock: bool = False
) -> dict[int, Any]:
    state = webhook_metric_state
    query = select(state).where(
        state.c.location_id == location_id, state.c.endpoint_id == endpoint_id
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.metric_id: row for row in conn.execute(query)}


def upsert_metric_state(
    conn: Connection,
    location_id: int,
    endpoint_id: int,
    metric_id: int,
    value: str,
    sent_at: int,
    *,
    exists: bool,
) -> None:
    table = webhook_metric_state
    if exists:
        conn.execute(
            update(table)
            .where(
                table.c.location_id == location_id,
                table.c.endpoint_id == endpoint_id,
                table.c.metric_id == metric_id,
            )
            .values(value=value, sent_at=sent_at)
        )
    else:
        conn.execute(
            insert(table).values(
                location_id=location_id,
                endpoint_id=endpoint_id,
                metric_id=metric_id,
                value=value,
                sent_at=sent_at,
            )
        )
