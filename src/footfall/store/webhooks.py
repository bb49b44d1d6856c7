"""Webhook endpoints, the delivery outbox and the attempt log.

Claims and attempts (one delivery in flight per endpoint, leases, claim tokens) are
`store.webhook_claims`, re-exported here.

Endpoints are keyed by (location_id, id) (ids from `store.ids`, unique across locations,
so the CLI names an endpoint by its id alone). Whatever runs per delivery names the
location too, and joins deliveries to endpoints on both columns: on Citus that keeps the
claim (a `FOR UPDATE`, which Citus runs only on a single shard) and the attempt's record
on the location's shard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    insert,
    select,
    update,
)

from footfall.store.ids import new_ids
from footfall.store.locations import bump_webhooks_version
from footfall.store.schema import (
    webhook_deliveries,
    webhook_endpoints,
    webhook_metric_state,
)
from footfall.store.webhook_claims import Claimed, claim_next, due_endpoints, record_attempt

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
