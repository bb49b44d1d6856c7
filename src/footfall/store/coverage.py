"""Coverage rows: per channel and UTC quarter-hour, its marks and covered seconds.

Written only under the location's row lock (ingest and heartbeats take it first), so the
read-fold-write of `services.coverage.record_marks` never loses a concurrent mark; the
upsert then simply replaces the quarter's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select

from footfall.store.db import driver_execute, placeholder
from footfall.store.schema import channels, coverage_quarters
from footfall.store.upserts import Upsert

__all__ = [
    "declared_channels",
    "first_quarters",
    "load_marks",
    "quarter_rows",
    "quarters",
]


_QUARTERS_PER_QUERY = 500  # parameters per statement: well under both engines' limits


def declared_channels(conn: Connection, location_id: int) -> set[str]:
    """Every channel the location's agent ever declared (inactive ones too: spooled
    heartbeats of a channel since removed still arrive)."""
    return set(
        conn.execute(select(channels.c.id).where(channels.c.location_id == location_id)).scalars()
    )


def load_marks(
    conn: Connection, location_id: int, channel_ids: Sequence[str], quarters: Sequence[int]
) -> dict[tuple[str, int], tuple[str, int]]:
    """(channel, quarter start ms) -> (stored marks text, covered seconds), for the rows
    that exist.

    The quarters are listed, not given as a range: a batch mixing last year's events with
    today's reads a handful of rows, not every row in between."""
    if not channel_ids or not quarters:
        return {}
    mark = placeholder(conn)
    channel_list = ", ".join([mark] * len(channel_ids))
    wanted = sorted(set(quarters))
    found: dict[tuple[str, int], tuple[str, int]] = {}
    for start in range(0, len(wanted), _QUARTERS_PER_QUERY):
        chunk = wanted[start : start + _QUARTERS_PER_QUERY]
        # On the driver's cursor: read for every events batch (store/db.py, driver_execute).
        result, _ = driver_execute(
            conn,
            "SELECT channel_id, quarter, marks, covered_s FROM coverage_quarters "
            f"WHERE location_id = {mark} AND channel_id IN ({channel_list}) "
            f"AND quarter IN ({', '.join([mark] * len(chunk))})",
            (location_id, *channel_ids, *chunk),
        )
        found.update({(str(c), int(q)): (str(m), int(s)) for c, q, m, s in result})
    return found


def quarters(location_id: int, rows: Sequence[tuple[str, int, int, str]]) -> Upsert:
    """(channel, quarter start ms, covered seconds, marks text) rows to write (send with
    `upserts.run`): each replaces its quarter's row."""
    return Upsert(
        table="coverage_quarters",
        columns=("location_id", "channel_id", "quarter", "covered_s", "marks"),
        types=("int", "varchar", "bigint", "int", "text"),
        conflict=(
            "ON CONFLICT (location_id, channel_id, quarter) DO UPDATE SET "
            "covered_s = excluded.covered_s, marks = excluded.marks"
        ),
        rows=[(location_id, *row) for row in rows],
    )


def quarter_rows(
    conn: Connection,
    location_id: int,
    channel_ids: Sequence[str] | None,
    since: int,
    until: int,
) -> Sequence[Any]:
    """(channel_id, quarter, covered_s, marks) of quarters starting in [since, until)."""
    q = coverage_quarters
    where = [q.c.location_id == location_id, q.c.quarter >= since, q.c.quarter < until]
    if channel_ids is not None:
        where.append(q.c.channel_id.in_(channel_ids))
    return conn.execute(
        select(q.c.channel_id, q.c.quarter, q.c.covered_s, q.c.marks)
        .where(and_(*where))
        .order_by(q.c.channel_id, q.c.quarter)
    ).all()


def first_quarters(
    conn: Connection, location_id: int, channel_ids: Sequence[str] | None = None
) -> dict[str, int]:
    """channel -> the first quarter with a row: coverage is known from there on (for the
    channels given, or every channel of the location)."""
    q = coverage_quarters
    query = select(q.c.channel_id, func.min(q.c.quarter)).where(q.c.location_id == location_id)
    if channel_ids is not None:
        query = query.where(q.c.channel_id.in_(channel_ids))
    return {
        str(channel): int(first) for channel, first in conn.execute(query.group_by(q.c.channel_id))
    }
