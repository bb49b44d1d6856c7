"""Locations, and the channels and triggers their agents declare.

A config upsert never deletes: channels and triggers absent from it become inactive (from
`inactive_since`), so history keeps their names and buffered events for them are still
accepted; `services.undeclared` purges them once the retention period has passed since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import NoResultFound

from footfall.store.db import driver_execute, placeholder
from footfall.store.schema import channels, locations, triggers
from footfall.store.tokens import find_token, insert_token

__all__ = [
    "ChannelSpec",
    "LocationRow",
    "LockedLocation",
    "TriggerRow",
    "TriggerSpec",
    "bump_webhooks_version",
    "find_location_by_token_hash",
    "get_location",
    "insert_location",
    "known_counts",
    "list_locations",
    "load_triggers",
    "location_ids",
    "lock_and_touch",
    "touch",
    "upsert_config",
]


@dataclass(frozen=True)
class LocationRow:
    id: int
    account_id: int
    name: str
    timezone: str
    hash: str
    version: str
    config_version: int
    last_seen_at: int | None
    created_at: int


@dataclass(frozen=True)
class TriggerRow:
    id: str
    channel_id: str
    name: str
    type: str
    active: int


@dataclass(frozen=True)
class TriggerSpec:
    id: str
    name: str
    type: str


@dataclass(frozen=True)
class ChannelSpec:
    id: str
    name: str
    paid: int
    triggers: Sequence[TriggerSpec]


_LOCATION_COLUMNS = (
    locations.c.id,
    locations.c.account_id,
    locations.c.name,
    locations.c.timezone,
    locations.c.hash,
    locations.c.version,
    locations.c.config_version,
    locations.c.last_seen_at,
    locations.c.created_at,
)


def insert_location(
    conn: Connection,
    *,
    account_id: int,
    name: str,
    timezone: str,
    hash_: str,
    token_hash: str,
    now: int,
) -> LocationRow:
    new_id = conn.execute(
        insert(locations)
        .values(
            account_id=account_id,
            name=name,
            timezone=timezone,
            hash=hash_,
            created_at=now,
        )
        .returning(locations.c.id)
    ).scalar_one()
    insert_token(conn, token_hash=token_hash, kind="ingest", location_id=new_id)
    return LocationRow(new_id, account_id, name, timezone, hash_, "", 0, None, now)


def get_location(conn: Connection, location_id: int) -> LocationRow | None:
    row = conn.execute(
        select(*_LOCATION_COLUMNS).where(locations.c.id == location_id)
    ).one_or_none()
    return None if row is None else LocationRow(*row)


def find_location_by_token_hash(conn: Connection, token_hash: str) -> LocationRow | None:
    """The location an ingest token opens: the token lookup, then the location's row."""
    target = find_token(conn, token_hash, "ingest")
    return None if target is None else get_location(conn, target.location_id)


def list_locations(conn: Connection, *, account_id: int | None = None) -> list[LocationRow]:
    query = select(*_LOCATION_COLUMNS).order_by(locations.c.id)
    if account_id is not None:
        query = query.where(locations.c.account_id == account_id)
    return [LocationRow(*row) for row in conn.execute(query)]


def location_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(locations.c.id).order_by(locations.c.id)).scalars())


def touch(conn: Connection, location_id: int, now: int) -> None:
    conn.execute(update(locations).where(locations.c.id == location_id).values(last_seen_at=now))


class LockedLocation(NamedTuple):
    """What an ingest transaction needs of the location it has just locked."""

    config_version: int
    webhooks_version: int
    timezone: str


def lock_and_touch(conn: Connection, location_id: int, now: int) -> LockedLocation:
    """Mark the location seen, taking its row lock for the rest of the transaction.

    Returns its config and webhooks versions and its zone. Every writer of a location's
    events goes through here first, which serialises them per location (the after_id
    paging rule relies on it). Sent straight to the driver: once per batch on the hot
    path, where SQLAlchemy's handling of the statement cost more than running it.
    """
    mark = placeholder(conn)
    rows, _ = driver_execute(
        conn,
        f"UPDATE locations SET last_seen_at = {mark} WHERE id = {mark} "
        "RETURNING config_version, webhooks_version, timezone",
        (now, location_id),
    )
    if len(rows) != 1:
        raise NoResultFound(f"no location {location_id}")
    row = rows[0]
    return LockedLocation(int(row[0]), int(row[1]), str(row[2]))


def bump_webhooks_version(conn: Connection, location_id: int) -> None:
    """Tell ingest (in every process) that the location's webhook endpoints changed."""
    conn.execute(
        update(locations)
        .where(locations.c.id == location_id)
        .values(webhooks_version=locations.c.webhooks_version + 1)
    )


def load_triggers(conn: Connection, location_id: int) -> dict[str, TriggerRow]:
    rows = conn.execute(
        select(
            triggers.c.id,
            triggers.c.channel_id,
            triggers.c.name,
            triggers.c.type,
            triggers.c.active,
        ).where(triggers.c.location_id == location_id)
    )
    return {row.id: TriggerRow(*row) for row in rows}


def _upsert_rows(
    conn: Connection,
    table: Table,
    location_id: int,
    rows: dict[str, dict[str, object]],
    now: int,
) -> None:
    """Make `rows` the location's active rows of `table`: new ones inserted, changed or
    inactive ones updated, the others made inactive (from `now`). Statements run once per
    kind with a parameter set per row (executemany), and rows already as declared are not
    written: a config at the limit is a few round trips, not one per channel."""
    names = sorted({name for values in rows.values() for name in values})
    stored = {
        row.id: row
        for row in conn.execute(
            select(table.c.id, table.c.active, *(table.c[n] for n in names)).where(
                table.c.location_id == location_id
            )
        )
    }
    new, changed = [], []
    for row_id, values in rows.items():
        old = stored.get(row_id)
        if old is None:
            new.append({"location_id": location_id, "id": row_id, **values, "active": 1})
        elif not old.active or any(getattr(old, n) != values[n] for n in names):
            changed.append({"b_id": row_id, **{f"v_{n}": values[n] for n in names}})
    gone = [{"b_id": row_id} for row_id, old in stored.items() if old.active and row_id not in rows]
    where = (table.c.location_id == location_id, table.c.id == bindparam("b_id"))
    if new:
        conn.execute(insert(table), new)
    if changed:
        conn.execute(
            update(table)
            .where(*where)
            .values(
                {**{n: bindparam(f"v_{n}") for n in names}, "active": 1, "inactive_since": None}
            ),
            changed,
        )
    if gone:
        conn.execute(update(table).where(*where).values(active=0, inactive_since=now), gone)


def known_counts(conn: Connection, location_id: int) -> tuple[int, tuple[str, int] | None]:
    """How many channels the location knows (declared or not yet purged), and the channel
    with the most triggers with their number (None without triggers): what the limits
    bound (docs/operations.md, Limits)."""
    known = conn.execute(
        select(func.count()).where(channels.c.location_id == location_id)
    ).scalar_one()
    per_channel = func.count().label("n")
    busiest = conn.execute(
        select(triggers.c.channel_id, per_channel)
        .where(triggers.c.location_id == location_id)
        .group_by(triggers.c.channel_id)
        .order_by(per_channel.desc(), triggers.c.channel_id)
        .limit(1)
    ).one_or_none()
    return int(known), None if busiest is None else (str(busiest[0]), int(busiest[1]))


def upsert_config(
    conn: Connection,
    *,
    location_id: int,
    version: str,
    timezone: str | None,
    channel_specs: Sequence[ChannelSpec],
    now: int,
) -> tuple[str, int, int]:
    """Apply an agent's declaration. Returns (timezone, active channels, active triggers)."""
    values: dict[str, object] = {
        "version": version,
        "last_seen_at": now,
        "config_version": locations.c.config_version + 1,
    }
    if timezone is not None:
        values["timezone"] = timezone
    zone = conn.execute(
        update(locations)
        .where(locations.c.id == location_id)
        .values(**values)
        .returning(locations.c.timezone)
    ).scalar_one()
    _upsert_rows(
        conn,
        channels,
        location_id,
        {c.id: {"name": c.name, "paid": c.paid} for c in channel_specs},
        now,
    )
    _upsert_rows(
        conn,
        triggers,
        location_id,
        {
            t.id: {"name": t.name, "type": t.type, "channel_id": c.id}
            for c in channel_specs
            for t in c.triggers
        },
        now,
    )
    counts = [
        conn.execute(
            select(func.count()).where(table.c.location_id == location_id, table.c.active == 1)
        ).scalar_one()
        for table in (channels, triggers)
    ]
    return str(zone), int(counts[0]), int(counts[1])
