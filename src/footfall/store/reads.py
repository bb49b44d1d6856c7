"""Queries of the read API: each returns plain rows; rendering is the services' job.

Totals combine two sources (docs/api.md, Totals): `rollup_counts` for whole UTC hours and
`raw_counts` for the partial hours at the edges, so their cost grows with the number of
hours in the range, not with the number of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select

from footfall.domain.read_params import Params
from footfall.store.schema import (
    channels,
    events,
    histograms,
    hourly_rollups,
    locations,
    quarter_rollups,
    triggers,
)

Rows = Sequence[Any]  # SQLAlchemy rows: attribute access by column name

__all__ = [
    "account_locations",
    "channels_of",
    "events_page",
    "histograms_page",
    "raw_counts",
    "rollup_counts",
    "triggers_of",
]


def account_locations(
    conn: Connection, account_id: int, among: Sequence[int] | None = None
) -> Rows:
    """The account's locations, or those of them among the ids `among`. (Naming the ids
    keeps the query on their shards on Citus, where locations are distributed by id.)"""
    query = select(
        locations.c.id,
        locations.c.name,
        locations.c.version,
        locations.c.timezone,
        locations.c.hash,
    ).where(locations.c.account_id == account_id)
    if among is not None:
        query = query.where(locations.c.id.in_(among))
    return conn.execute(query.order_by(locations.c.id)).all()


def channels_of(conn: Connection, location_ids: Sequence[int]) -> Rows:
    return conn.execute(
        select(channels)
        .where(channels.c.location_id.in_(location_ids))
        .order_by(channels.c.location_id, channels.c.id)
    ).all()


def triggers_of(
    conn: Connection, location_ids: Sequence[int], channel_ids: Sequence[str] | None
) -> Rows:
    query = select(triggers).where(triggers.c.location_id.in_(location_ids))
    if channel_ids is not None:
        query = query.where(triggers.c.channel_id.in_(channel_ids))
    return conn.execute(query.order_by(triggers.c.location_id, triggers.c.id)).all()


def _event_filters(location_ids: Sequence[int], params: Params) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [events.c.location_id.in_(location_ids)]
    if params.channel_ids is not None:
        where.append(events.c.channel_id.in_(params.channel_ids))
    if params.trigger_ids is not None:
        where.append(events.c.trigger_id.in_(params.trigger_ids))
    if params.event_types is not None:
        where.append(events.c.event_type.in_(params.event_types))
    if params.origins is not None:
        where.append(events.c.origin.in_(params.origins))
    return where


def events_page(conn: Connection, location_ids: Sequence[int], params: Params) -> Rows:
    where = _event_filters(location_ids, params)
    if params.since is not None:
        where.append(events.c.event_time >= params.since)
    if params.until is not None:
        where.append(events.c.event_time < params.until)
    if params.after_id:
        where.append(events.c.id > params.after_id)
    return conn.execute(
        select(events).where(and_(*where)).order_by(events.c.id).limit(params.limit)
    ).all()


def _grouped(query: Select[Any], group: Sequence[str], source: Any) -> Select[Any]:
    columns = [source.c[name] for name in group]
    return query.add_columns(*columns).group_by(*columns)


def rollup_counts(
    conn: Connection,
    location_ids: Sequence[int],
    params: Params,
    group: Sequence[str],
    start: int | None,
    end: int | None,
    *,
    by: Literal["hours", "quarters"] = "hours",
) -> Rows:
    """Sums of the hourly (or quarter-hour) rollups of the buckets starting in
    [start, end), grouped by `group` columns."""
    r = hourly_rollups if by == "hours" else quarter_rollups
    bucket = r.c.hour if by == "hours" else r.c.quarter
    where: list[ColumnElement[bool]] = [r.c.location_id.in_(location_ids)]
    for name, values in (
        ("channel_id", params.channel_ids),
        ("trigger_id", params.trigger_ids),
        ("event_type", params.event_types),
        ("origin", params.origins),
    ):
        if values is not None:
            where.append(r.c[name].in_(values))
    if start is not None:
        where.append(bucket >= start)
    if end is not None:
        where.append(bucket < end)
    query = select(func.sum(r.c.count).label("count")).where(and_(*where))
    return conn.execute(_grouped(query, group, r)).all()


def raw_counts(
    conn: Connection,
    location_ids: Sequence[int],
    params: Params,
    group: Sequence[str],
    since: int,
    until: int,
) -> Rows:
    """Counts of raw events with event_time in [since, until), grouped by `group`."""
    where = _event_filters(location_ids, params)
    where += [events.c.event_time >= since, events.c.event_time < until]
    query = select(func.count().label("count")).where(and_(*where))
    return conn.execute(_grouped(query, group, events)).all()


def histograms_page(conn: Connection, location_ids: Sequence[int], params: Params) -> Rows:
    h = histograms
    where: list[ColumnElement[bool]] = [h.c.location_id.in_(location_ids)]
    if params.channel_ids is not None:
        where.append(h.c.channel_id.in_(params.channel_ids))
    if params.trigger_ids is not None:
        where.append(h.c.trigger_id.in_(params.trigger_ids))
    if params.since is not None:
        where.append(h.c.hour_start >= params.since)
    if params.until is not None:
        where.append(h.c.hour_start < params.until)
    if params.after_id:
        where.append(h.c.id > params.after_id)
    if params.updated_since is not None:
        where.append(h.c.computed_at >= params.updated_since)
    return conn.execute(select(h).where(and_(*where)).order_by(h.c.id).limit(params.limit)).all()
