"""The histogram job (SPEC §5.2): hourly occupancy and dwell of every Zone trigger.

For each Zone trigger it computes every completed local hour from the hour of the
trigger's first join or leave on. Work is incremental: a run starts from the earliest of
(the first hour not computed yet, the hour of the earliest event ingested since the last
run), seeds the replay with the open stays stored at the end of the hour before, and
writes every hour up to the start of the current one. Replaying is causal — an event at
time t changes nothing before t — so this equals a replay of the whole history.

Reading and computing happen outside any write transaction; the write is short and takes
the location's row lock, so new histogram ids appear in commit order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

import msgspec

from footfall.domain.histogram import hour_start, hourly_histograms, local_hours
from footfall.domain.stays import replay
from footfall.domain.times import MS_PER_HOUR, now_ms, parse_zone
from footfall.domain.zone_stats import QuarterStats, merge_hours, quarter_stats, quarters
from footfall.store import locations as location_store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.zones import HistogramRow, ProgressRow

__all__ = ["HistogramRun", "compute_histograms"]

_ENCODER = msgspec.json.Encoder()


def _json(value: object) -> str:
    return _ENCODER.encode(value).decode()


@dataclass(frozen=True)
class HistogramRun:
    triggers: int
    hours: int


def compute_histograms(
    db: Database, *, retention_days: float | None = None, clock: Callable[[], int] = now_ms
) -> HistogramRun:
    """One pass of the job over every Zone trigger with work to do.

    Hours older than the retention period are never recomputed: their raw events may be
    gone, and the stored histograms are the only record left.
    """
    with db.read() as conn:
        progress = zone_store.load_progress(conn)
        places = {loc.id: parse_zone(loc.timezone) for loc in location_store.list_locations(conn)}
    triggers = hours = 0
    results: list[_Result] = []
    for row in progress:
        zone = places.get(row.location_id)
        if zone is None:
            continue
        now = clock()
        oldest = None if retention_days is None else now - int(retention_days * 86_400_000)
        result = _compute_trigger(db, row, zone, now, oldest)
        if result is not None:
            results.append(result)
    # One short write transaction for the whole run: computing happened outside it.
    if results:
        with db.write() as conn:
            for location_id in sorted({r.row.location_id for r in results}):
                zone_store.lock_location(conn, location_id)  # new ids in commit order
            for result in results:
                zone_store.write_histograms(conn, result.row.location_id, result.rows, result.now)
                zone_store.write_quarters(
                    conn, result.row.location_id, result.row.trigger_id, result.stats
                )
                zone_store.finish_progress(conn, result.row, result.until, clean=True)
                if result.rows:
                    triggers += 1
                    hours += len(result.rows)
    return HistogramRun(triggers, hours)


@dataclass(frozen=True)
class _Result:
    row: ProgressRow
    rows: list[HistogramRow]
    stats: list[QuarterStats]
    until: int
    now: int


def _compute_trigger(
    db: Database, row: ProgressRow, zone: tzinfo, now: int, oldest: int | None
) -> _Result | None:
    target_end = hour_start(zone, now)  # the current hour is not complete yet
    if row.computed_until is None:
        start = hour_start(zone, row.first_event_ms)
    else:
        start = row.computed_until
        if row.dirty_from is not None:
            start = min(start, hour_start(zone, row.dirty_from))
        if oldest is not None:
            start = max(start, min(row.computed_until, hour_start(zone, oldest) + MS_PER_HOUR))
    if start >= target_end:
        if row.dirty_from is not None and row.computed_until is not None:
            # Only hours not complete yet were touched: nothing to recompute.
            return _Result(row, [], [], row.computed_until, now)
        return None
    first_hour = hour_start(zone, row.first_event_ms)
    with db.read() as conn:
        # Before the first hour nothing was open; later, the stored snapshot says what was.
        snapshot = (
            zone_store.open_stays_before(conn, row.location_id, row.trigger_id, start)
            if start > first_hour
            else None
        )
        stored = zone_store.read_zone_events(
            conn, row.location_id, row.trigger_id, start, target_end
        )
        triggers = location_store.load_triggers(conn, row.location_id)
    open_at_start = (
        {int(k): int(v) for k, v in json.loads(snapshot).items()} if snapshot is not None else {}
    )
    stays = replay(stored, open_at_start=open_at_start, horizon_ms=target_end)
    # One sweep at quarter-hour resolution; local hours are unions of quarters in every zone.
    hours = local_hours(zone, start, target_end)
    by_quarter = hourly_histograms(quarters(start, target_end), stays, {end for _, end in hours})
    computed = merge_hours(hours, by_quarter)
    stats = quarter_stats(by_quarter)
    trigger = triggers.get(row.trigger_id)
    channel_id = trigger.channel_id if trigger is not None else ""
    rows = [
        HistogramRow(
            trigger_id=row.trigger_id,
            channel_id=channel_id,
            hour_start=h.start_ms,
            counting_data=_json(h.counting_data),
            lifetime_data=_json(h.lifetime_data),
            open_stays=_json({str(k): v for k, v in sorted(h.open_at_end.items())}),
        )
        for h in computed
    ]
    return _Result(row, rows, stats, target_end, now)
