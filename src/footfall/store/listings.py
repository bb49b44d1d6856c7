"""Bounded listings of a location's channels and triggers, for pages that show a few.

Every query takes a `limit` or a short list of ids chosen by the caller (never one
parameter per channel of the location), and lists declared (active) rows before the
others, each in id order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from footfall.store.locations import TriggerRow
from footfall.store.schema import channels, triggers

__all__ = [
    "channel_count",
    "first_channels",
    "first_triggers",
    "triggers_named",
    "triggers_on",
]

_TRIGGER_COLUMNS = (
    triggers.c.id,
    triggers.c.channel_id,
    triggers.c.name,
    triggers.c.type,
    triggers.c.active,
)


def channel_count(conn: Connection, location_id: int) -> int:
    query = select(func.count()).where(channels.c.location_id == location_id)
    return int(conn.execute(query).scalar_one())


def first_channels(conn: Connection, location_id: int, limit: int) -> Sequence[Any]:
    """(id, name, paid, active) of the location's first `limit` channels, active first."""
    query = (
        select(channels.c.id, channels.c.name, channels.c.paid, channels.c.active)
        .where(channels.c.location_id == location_id)
        .order_by(channels.c.active.desc(), channels.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()


def triggers_on(
    conn: Connection, location_id: int, channel_ids: Sequence[str], limit: int
) -> list[TriggerRow]:
    """The triggers of a few channels (at most `limit`), active first."""
    if not channel_ids:
        return []
    query = (
        select(*_TRIGGER_COLUMNS)
        .where(triggers.c.location_id == location_id, triggers.c.channel_id.in_(channel_ids))
        .order_by(triggers.c.active.desc(), triggers.c.id)
        .limit(limit)
    )
    return [TriggerRow(*row) for row in conn.execute(query)]


def first_triggers(
    conn: Connection,
    location_id: int,
    kind: str,
    limit: int,
    *,
    named: tuple[str, str] | None = None,
) -> list[TriggerRow]:
    """The location's first `limit` triggers of type `kind`, active first; with `named`
    (part, whole), only those whose lower-cased name contains `part` or is `whole`."""
    query = select(*_TRIGGER_COLUMNS).where(
        triggers.c.location_id == location_id, triggers.c.type == kind
    )
    if named is not None:
        lowered = func.lower(triggers.c.name)
        query = query.where(lowered.contains(named[0], autoescape=True) | (lowered == named[1]))
    query = query.order_by(triggers.c.active.desc(), triggers.c.id).limit(limit)
    return [TriggerRow(*row) for row in conn.execute(query)]


def triggers_named(conn: Connection, location_id: int, ids: Sequence[str]) -> list[TriggerRow]:
    """The triggers among `ids` (a few, chosen by an operator or a page)."""
    if not ids:
        return []
    query = select(*_TRIGGER_COLUMNS).where(
        triggers.c.location_id == location_id, triggers.c.id.in_(ids)
    )
    return [TriggerRow(*row) for row in conn.execute(query.order_by(triggers.c.id))]
