"""What the histogram job writes for one trigger step: its hourly histogram rows and its
quarter-hour statistics (docs/api.md, Histograms and Report feeds).

Invariants:
- A histogram row keeps its `id` for ever: a recomputation updates it in place, and moves
  its `computed_at` only when its figures (`counting_data`, `lifetime_data`) changed (a
  revision, returned to the caller to announce). New rows take ids in hour order, under
  the location's row lock the caller holds (`store.zones.lock_location`), so `after_id`
  paging sees them in commit order.
- The quarter statistics of a span the job computed are replaced as a whole: no quarter
  of the span keeps a figure from an earlier computation.

Every statement goes to the driver's own cursor (`store.db.driver_execute`) with its
parameters as plain tuples: the job writes a day of 24 hours and 96 quarters per trigger
step, and building SQLAlchemy's statements and results for each cost the job more than
computing the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from footfall.domain.zone_stats import QuarterStats
from footfall.store.db import driver_execute, driver_executemany, placeholder
from footfall.store.ids import new_ids

__all__ = ["HistogramRow", "write_histograms", "write_quarters"]


@dataclass(frozen=True)
class HistogramRow:
    trigger_id: str
    channel_id: str
    hour_start: int
    hour_end: int
    counting_data: str
    lifetime_data: str
    open_stays: str


_CHUNK = 1_000  # quarter rows per INSERT: 7,000 parameters

# (hour_end, counting_data, lifetime_data, open_stays) of a stored row, by hour_start.
_Stored = dict[int, tuple[int, str, str, str]]


def _sql(conn: Connection, statement: str) -> str:
    """`statement` written with `?` marks, in the driver's own parameter style."""
    mark = placeholder(conn)
    return statement if mark == "?" else statement.replace("?", mark)


def write_histograms(
    conn: Connection, location_id: int, rows: Sequence[HistogramRow], now: int
) -> list[HistogramRow]:
    """Insert new hours and update recomputed ones in place (keeping their ids).

    A recomputed hour whose figures (`counting_data`, `lifetime_data`) changed gets
    `computed_at = now` and is returned: it is a revision. One whose figures
    are the same keeps its `computed_at` (its snapshot is refreshed if that moved), so
    `updated_since` returns only what a reader would see change.
    """
    if not rows:
        return []
    stored = _stored_hours(conn, location_id, rows)
    revised, refreshed, fresh = _compare(stored, rows)
    _update_hours(conn, location_id, revised, now)
    _update_hours(conn, location_id, refreshed, None)
    _insert_hours(conn, location_id, fresh, now)
    return revised


def _stored_hours(conn: Connection, location_id: int, rows: Sequence[HistogramRow]) -> _Stored:
    """The stored rows of the trigger whose hours the step covers (all of one trigger)."""
    found, _ = driver_execute(
        conn,
        _sql(
            conn,
            "SELECT hour_start, hour_end, counting_data, lifetime_data, open_stays "
            "FROM histograms WHERE location_id = ? AND trigger_id = ? "
            "AND hour_start >= ? AND hour_start <= ?",
        ),
        (
            location_id,
            rows[0].trigger_id,
            min(r.hour_start for r in rows),
            max(r.hour_start for r in rows),
        ),
    )
    return {
        int(start): (int(end), counting, lifetime, opened)
        for start, end, counting, lifetime, opened in found
    }


def _compare(
    stored: _Stored, rows: Sequence[HistogramRow]
) -> tuple[list[HistogramRow], list[HistogramRow], list[HistogramRow]]:
    """(revised: stored with other figures; refreshed: the same figures but another
    snapshot or end; fresh: not stored yet, in hour order). Unchanged rows are in none."""
    revised: list[HistogramRow] = []
    refreshed: list[HistogramRow] = []
    fresh: list[HistogramRow] = []
    for r in rows:
        old = stored.get(r.hour_start)
        if old is None:
            fresh.append(r)
        elif (old[1], old[2]) != (r.counting_data, r.lifetime_data):
            revised.append(r)
        elif (old[3], old[0]) != (r.open_stays, r.hour_end):
            refreshed.append(r)
    fresh.sort(key=lambda r: r.hour_start)
    return revised, refreshed, fresh


def _update_hours(
    conn: Connection, location_id: int, changed: Sequence[HistogramRow], stamp: int | None
) -> None:
    """Rewrite stored hours in place; `stamp`: their new `computed_at` (a revision), or
    None to keep it (only the snapshot moved)."""
    if not changed:
        return
    stamped = "" if stamp is None else ", computed_at = ?"
    driver_executemany(
        conn,
        _sql(
            conn,
            "UPDATE histograms SET counting_data = ?, lifetime_data = ?, open_stays = ?, "
            f"hour_end = ?{stamped} "
            "WHERE location_id = ? AND trigger_id = ? AND hour_start = ?",
        ),
        [
            (r.counting_data, r.lifetime_data, r.open_stays, r.hour_end)
            + (() if stamp is None else (stamp,))
            + (location_id, r.trigger_id, r.hour_start)
            for r in changed
        ],
    )


def _insert_hours(
    conn: Connection, location_id: int, fresh: Sequence[HistogramRow], now: int
) -> None:
    """New hours, their ids drawn in hour order."""
    if not fresh:
        return
    driver_executemany(
        conn,
        _sql(
            conn,
            "INSERT INTO histograms (location_id, id, trigger_id, channel_id, hour_start, "
            "hour_end, counting_data, lifetime_data, open_stays, computed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ),
        [
            (
                location_id,
                new_id,
                r.trigger_id,
                r.channel_id,
                r.hour_start,
                r.hour_end,
                r.counting_data,
                r.lifetime_data,
                r.open_stays,
                now,
            )
            for new_id, r in zip(new_ids(conn, "histograms", len(fresh)), fresh, strict=True)
        ],
    )


def write_quarters(
    conn: Connection, location_id: int, trigger_id: str, stats: Sequence[QuarterStats]
) -> None:
    """Replace the quarter statistics of the span the job just computed."""
    if not stats:
        return
    driver_execute(
        conn,
        _sql(
            conn,
            "DELETE FROM zone_quarters WHERE location_id = ? AND trigger_id = ? "
            "AND quarter >= ? AND quarter <= ?",
        ),
        (location_id, trigger_id, stats[0].start_ms, stats[-1].start_ms),
    )
    # Multi-row INSERTs (a day is 96 rows): SQLite runs one faster than `executemany` runs
    # 96 single-row ones, as for the events (docs/benchmarks.md). At most _CHUNK rows a
    # statement keeps a long recomputation within the drivers' parameter limits.
    for first in range(0, len(stats), _CHUNK):
        chunk = stats[first : first + _CHUNK]
        values: list[int | str] = []
        for q in chunk:
            values += (location_id, trigger_id, q.start_ms, q.peak, q.area_ms, q.stays, q.stay_ms)
        driver_execute(
            conn,
            _sql(
                conn,
                "INSERT INTO zone_quarters "
                "(location_id, trigger_id, quarter, peak, area_ms, stays, stay_ms) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
            ),
            tuple(values),
        )
