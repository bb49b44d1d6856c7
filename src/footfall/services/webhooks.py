"""Webhook use cases (docs/api.md, Webhooks): manage endpoints, fill the outbox, coalesce live
metrics.

- `queue_event_deliveries` runs inside the ingest transaction: the deliveries of a batch
  commit with its events or not at all (at most ceil(n/100) per endpoint).
- `watch_metrics` turns occupancy and queue changes into deliveries: at most one per
  second per metric and endpoint, always carrying the latest value. It compares with the
  value last queued (stored), so a restart loses no change; the value current when an
  endpoint is created is sent at its next change.
- `revisions` deliveries are queued by `services.revisions.notify`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

import msgspec
from sqlalchemy import Connection

from footfall.domain.ingest import EventRow
from footfall.domain.netguard import UrlRejected
from footfall.domain.sealing import WEBHOOK_SECRET
from footfall.domain.times import now_ms, parse_zone
from footfall.domain.webhooks import (
    KINDS,
    MAX_EVENTS_PER_DELIVERY,
    event_payload,
    format_utc,
    new_secret,
    new_webhook_id,
)
from footfall.services.errors import NotFoundError, ServiceError
from footfall.services.metric_values import KINDS as METRIC_KINDS
from footfall.services.metric_values import metric_payloads
from footfall.services.safe_transport import Resolver, check_webhook_url, system_resolver
from footfall.store import locations as location_store
from footfall.store import webhooks as store
from footfall.store.db import Database
from footfall.store.webhooks import EndpointRow

__all__ = [
    "DeliveryView",
    "Endpoint",
    "create_endpoint",
    "delete_endpoint",
    "enable_endpoint",
    "list_deliveries",
    "list_endpoints",
    "queue_event_deliveries",
    "replay",
    "watch_metrics",
]

# An endpoint as the service hands it out (its secret stays sealed in the row).
Endpoint = EndpointRow

_ENCODER = msgspec.json.Encoder()
COALESCE_MS = 1000


def create_endpoint(
    db: Database,
    *,
    location_id: int,
    url: str,
    kind: str = "events",
    channel_id: str | None = None,
    allow_private: bool = False,
    resolver: Resolver = system_resolver,
) -> EndpointRow:
    """A new endpoint; `allow_private` is FOOTFALL_WEBHOOK_ALLOW_PRIVATE (docs/api.md, Webhooks;
    docs/operations.md, Configuration)."""
    if kind not in KINDS:
        raise ServiceError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    try:
        check_webhook_url(url, allow_private=allow_private, resolver=resolver)
    except UrlRejected as exc:
        raise ServiceError(str(exc)) from None
    if channel_id is not None and kind not in ("events", "revisions"):
        raise ServiceError(f"--channel: {kind} webhooks cover a whole location; drop --channel")
    secret = new_secret()
    sealed = db.keyring.seal(secret, WEBHOOK_SECRET)  # never stored in clear
    with db.write() as conn:
        location = location_store.get_location(conn, location_id)
        if location is None:
            raise NotFoundError(f"no location {location_id}: see `footfall locations list`")
        if channel_id is not None:
            known = {t.channel_id for t in location_store.load_triggers(conn, location_id).values()}
            if channel_id not in known:
                raise ServiceError(
                    f"--channel: location {location_id} has no channel {channel_id!r} "
                    "(its agent declares channels with PUT /ingest/v1/config)"
                )
        endpoint = EndpointRow(
            0,
            location.account_id,
            location_id,
            channel_id,
            kind,
            url,
            sealed,
            True,
            now_ms(),
        )
        endpoint = replace(endpoint, id=store.insert_endpoint(conn, endpoint))
        if kind in METRIC_KINDS:
            # The values current now are the starting point: sent at their next change.
            zone = parse_zone(location.timezone)
            for metric, (payload, _) in _metric_payloads(conn, endpoint, zone, now_ms()).items():
                value = _ENCODER.encode(payload).decode()
                store.upsert_metric_state(
                    conn, location_id, endpoint.id, metric, value, 0, exists=False
                )
    return replace(endpoint, secret=secret)  # shown once, to the caller


def list_endpoints(db: Database, location_id: int | None = None) -> list[EndpointRow]:
    with db.read() as conn:
        return store.list_endpoints(conn, location_id)


def delete_endpoint(db: Database, endpoint_id: int) -> None:
    with db.write() as conn:
        if not store.delete_endpoint(conn, endpoint_id):
            raise NotFoundError(f"no webhook endpoint {endpoint_id}: see `footfall webhooks list`")


def enable_endpoint(db: Database, endpoint_id: int, enabled: bool = True) -> None:
    with db.write() as conn:
        if not store.set_enabled(conn, endpoint_id, enabled):
            raise NotFoundError(f"no webhook endpoint {endpoint_id}: see `footfall webhooks list`")


@dataclass(frozen=True)
class DeliveryView:
    id: int
    endpoint_id: int
    webhook_id: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_deliveries(
    db: Database, *, endpoint_id: int | None = None, failed_only: bool = False, limit: int = 100
) -> list[DeliveryView]:
    with db.read() as conn:
        rows = store.list_deliveries(
            conn, endpoint_id=endpoint_id, failed_only=failed_only, limit=limit
        )
    return [
        DeliveryView(
            r.id,
            r.endpoint_id,
            r.webhook_id,
            r.status,
            r.attempts,
            r.last_status,
            r.last_error,
            format_utc(r.next_attempt_at) if r.status == "pending" else None,
            format_utc(r.created_at),
        )
        for r in rows
    ]


def replay(db: Database, delivery_id: int) -> None:
    """Queue a delivery for an immediate attempt (same body and webhook-id)."""
    with db.write() as conn:
        delivery = store.get_delivery(conn, delivery_id)
        if delivery is None:
            raise NotFoundError(f"no delivery {delivery_id}: see `footfall webhooks deliveries`")
        endpoint = store.get_endpoint(conn, delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            raise ServiceError(
                f"endpoint {delivery.endpoint_id} is disabled: `footfall webhooks enable "
                f"{delivery.endpoint_id}` first"
            )
        store.replay_delivery(conn, delivery.location_id, delivery.id, now_ms())


def queue_event_deliveries(
    conn: Connection,
    location_id: int,
    rows: Sequence[EventRow],
    now: int,
    endpoints: Sequence[EndpointRow] | None = None,
) -> int:
    """In the ingest transaction: the deliveries of newly stored events (to `endpoints`,
    the location's enabled events endpoints, looked up when not given); how many."""
    if not rows:
        return 0
    if endpoints is None:
        endpoints = store.endpoints_of(conn, location_id, "events")
    if not endpoints:
        return 0
    deliveries: list[tuple[int, str, str]] = []
    for endpoint in endpoints:
        matching = (
            rows
            if endpoint.channel_id is None
            else [r for r in rows if r[4] == endpoint.channel_id]
        )
        for start in range(0, len(matching), MAX_EVENTS_PER_DELIVERY):
            chunk = matching[start : start + MAX_EVENTS_PER_DELIVERY]
            body = _ENCODER.encode([event_payload(r) for r in chunk]).decode()
            deliveries.append((endpoint.id, new_webhook_id(), body))
    store.insert_deliveries(conn, location_id, deliveries, now)
    return len(deliveries)


def _metric_payloads(
    conn: Connection, endpoint: EndpointRow, zone: tzinfo, now: int
) -> dict[int, tuple[dict[str, Any], int]]:
    """metric id -> (payload without event_time, changed_at) for the endpoint's kind."""
    return metric_payloads(conn, endpoint.location_id, endpoint.kind, zone, now)


def watch_metrics(db: Database, *, clock: Callable[[], int] = now_ms) -> int:
    """One pass over the occupancy and queue endpoints; returns deliveries created."""
    created = 0
    with db.read() as conn:
        endpoints = [e for e in store.list_endpoints(conn) if e.enabled and e.kind in METRIC_KINDS]
        zones = {loc.id: parse_zone(loc.timezone) for loc in location_store.list_locations(conn)}
    for endpoint in endpoints:
        now = clock()
        with db.read() as conn:
            current = _metric_payloads(conn, endpoint, zones[endpoint.location_id], now)
            states = store.metric_states(conn, endpoint.location_id, endpoint.id)
        changed = {
            metric: value
            for metric, value in current.items()
            if metric not in states or states[metric].value != _ENCODER.encode(value[0]).decode()
        }
        due = [m for m in changed if m not in states or now - states[m].sent_at >= COALESCE_MS]
        if not due:
            continue
        with db.write() as conn:
            # Locked re-read: of several processes watching, one queues each change.
            states = store.metric_states(conn, endpoint.location_id, endpoint.id, lock=True)
            deliveries = []
            for metric in due:
                payload, changed_at = changed[metric]
                value = _ENCODER.encode(payload).decode()
                previous = states.get(metric)
                if previous is not None and (
                    previous.value == value or now - previous.sent_at < COALESCE_MS
                ):
                    continue
                # The value current when the endpoint was created is a starting point,
                # not a change: remember it without sending it.
                if previous is not None:
                    body = _ENCODER.encode({**payload, "event_time": format_utc(changed_at)})
                    deliveries.append((endpoint.id, new_webhook_id(), body.decode()))
                store.upsert_metric_state(
                    conn,
                    endpoint.location_id,
                    endpoint.id,
                    metric,
                    value,
                    now if previous is not None else 0,
                    exists=previous is not None,
                )
            store.insert_deliveries(conn, endpoint.location_id, deliveries, now)
            created += len(deliveries)
    return created
