"""Counts read for the Prometheus scrape: cheap, index-backed, one snapshot per scrape."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from footfall.store.schema import locations, webhook_deliveries

__all__ = ["locations_seen_since", "pending_deliveries"]


def pending_deliveries(conn: Connection) -> int:
    """Deliveries not yet delivered nor failed (`ix_deliveries_due` starts with status)."""
    query = (
        select(func.count())
        .select_from(webhook_deliveries)
        .where(webhook_deliveries.c.status == "pending")
    )
    return int(conn.execute(query).scalar_one())


def locations_seen_since(conn: Connection, since_ms: int) -> int:
    query = select(func.count()).select_from(locations).where(locations.c.last_seen_at >= since_ms)
    return int(conn.execute(query).scalar_one())
