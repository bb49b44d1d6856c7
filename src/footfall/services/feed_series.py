"""The series of a report feed, read from derived data (docs/api.md, Report feeds).

Event counts come from the quarter-hour rollups, zone metrics (dwell, queue length, zone
occupancy) from the quarter statistics the histogram job keeps. Two parts are computed
live, both bounded: the current hour of a zone (not yet processed by the job, replayed
from its stored snapshot), and the peaks of a line counter (enter/exit crossings since
the reset before the report, which no rollup can give: the peak inside a quarter-hour
depends on the order of the crossings in it).

Every builder returns, per series, its name, a value per bucket (None for a bucket that
has not started) and the channels its values come from, for the coverage shares.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import tzinfo

from sqlalchemy import Connection

from footfall.domain.histogram import hour_start, hourly_histograms
from footfall.domain.occupancy import line_timeline, reset_period
from footfall.domain.read_params import Params
from footfall.domain.stays import parse_snapshot, replay
from footfall.domain.zone_stats import MS_PER_QUARTER, QuarterStats, quarter_stats
from footfall.store import feeds as store
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store import reads
from footfall.store import zones as zone_store
from footfall.store.feeds import FeedRow
from footfall.store.occupancy import CounterRow

__all__ = [
    "Series",
    "Value",
    "channels_of",
    "count_series",
    "counter_total",
    "dwell_series",
    "occupancy_series",
    "queue_series",
]

Value = float | int | None
# A built series: its name, a value per bucket, and the channels its values come from.
Series = tuple[str, list[Value], frozenset[str]]


def named(ids: Sequence[str], names: dict[str, str]) -> list[str]:
    """Series names: the trigger's name, or its id where two chosen triggers share it."""
    chosen = [names.get(i, i) for i in ids]
    return [i if chosen.count(n) > 1 else n for i, n in zip(ids, chosen, strict=True)]


def _triggers(
    conn: Connection, feed: FeedRow, kind: str | None = None
) -> tuple[list[str], list[str]]:
    known = location_store.load_triggers(conn, feed.location_id)
    ids = list(feed.triggers) or sorted(
        t for t, row in known.items() if kind is None or row.type == kind
    )
    return ids, named(ids, {t: row.name for t, row in known.items()})


def channels_of(conn: Connection, location_id: int, trigger_ids: Sequence[str]) -> frozenset[str]:
    known = location_store.load_triggers(conn, location_id)
    return frozenset(known[t].channel_id for t in trigger_ids if t in known)


def _index(spans: Sequence[tuple[int, int]], instant: int) -> int:
    return bisect_right([s for s, _ in spans], instant) - 1


def count_series(
    conn: Connection, feed: FeedRow, zone: tzinfo, spans: list[tuple[int, int]], now: int
) -> list[Series]:
    ids, names = _triggers(conn, feed)
    totals = {t: [0] * len(spans) for t in ids}
    if spans and ids:
        starts = [s for s, _ in spans]
        for trigger, quarter, count in store.quarter_counts(
            conn,
            feed.location_id,
            ids,
            spans[0][0],
            spans[-1][1],
            feed.event_types,
            feed.origins,
        ):
            totals[trigger][bisect_right(starts, quarter) - 1] += int(count)
    return [
        (
            name,
            [
                None if start > now else value
                for (start, _), value in zip(spans, totals[t], strict=True)
            ],
            channels_of(conn, feed.location_id, [t]),
        )
        for t, name in zip(ids, names, strict=True)
    ]


def counter_total(
    conn: Connection, feed: FeedRow, since: int, until: int, now: int
) -> tuple[int, frozenset[str]]:
    """Events of the chosen triggers with event_time <= now in [since, until) (whole
    quarters from the rollups, the partial quarters at the edges from raw events), and
    the channels they come from."""
    ids, _ = _triggers(conn, feed)
    channels = channels_of(conn, feed.location_id, ids)
    low, high = since, min(until, now + 1)
    if not ids or high <= low:
        return 0, channels
    first_full = -(-low // MS_PER_QUARTER) * MS_PER_QUARTER
    end_full = high - high % MS_PER_QUARTER
    params = Params(
        trigger_ids=tuple(ids), event_types=feed.event_types or None, origins=feed.origins or None
    )
    edges = [(low, high)] if first_full >= end_full else [(low, first_full), (end_full, high)]
    total = 0
    if first_full < end_full:
        total += sum(
            int(c)
            for _, _, c in store.quarter_counts(
                conn, feed.location_id, ids, first_full, end_full, feed.event_types, feed.origins
            )
        )
    for a, b in edges:
        if a < b:
            total += sum(
                int(row[0])
                for row in reads.raw_counts(
                    conn, [feed.location_id], params, ("location_id",), a, b
                )
            )
    return total, channels


def _zone_quarters(
    conn: Connection,
    location_id: int,
    trigger_id: str,
    zone: tzinfo,
    since: int,
    until: int,
    now: int,
) -> tuple[dict[int, QuarterStats], int | None]:
    """Quarter statistics of a zone over [since, until), up to now, and the instant it is
    measured from (the hour of its first join or leave; None when it has none)."""
    progress = store.zone_progress_of(conn, location_id, trigger_id)
    if progress is None:
        return {}, None
    measured_from = hour_start(zone, progress.first_event_ms)
    stored_until = progress.computed_until if progress.computed_until is not None else measured_from
    stats = {
        q: QuarterStats(q, peak, area, stays, stay_ms)
        for q, peak, area, stays, stay_ms in store.zone_quarter_rows(
            conn, location_id, trigger_id, since, min(until, stored_until)
        )
    }
    live_end = min(until, now)
    if live_end > stored_until:  # the hour the job has not processed yet
        snapshot = (
            zone_store.snapshot_at(conn, location_id, trigger_id, stored_until)
            if stored_until > measured_from
            else None
        )
        opened = parse_snapshot(snapshot.open_stays) if snapshot is not None else {}
        events = zone_store.read_zone_events(
            conn,
            location_id,
            trigger_id,
            stored_until if snapshot is None else snapshot.at,
            now + 10 * 60_000,
        )
        stays = replay(events, open_at_start=opened, horizon_ms=now)
        spans = [
            (q, min(q + MS_PER_QUARTER, live_end))
            for q in range(stored_until, live_end, MS_PER_QUARTER)
        ]
        for item in quarter_stats(hourly_histograms(spans, stays)):
            stats[item.start_ms] = item
    return stats, measured_from


def _per_bucket(
    spans: Sequence[tuple[int, int]], stats: dict[int, QuarterStats]
) -> list[list[QuarterStats]]:
    grouped: list[list[QuarterStats]] = [[] for _ in spans]
    for quarter, item in stats.items():
        index = _index(spans, quarter)
        if 0 <= index < len(spans) and quarter < spans[index][1]:
            grouped[index].append(item)
    return grouped


def dwell_series(
    conn: Connection, feed: FeedRow, zone: tzinfo, spans: list[tuple[int, int]], now: int
) -> list[Series]:
    ids, names = _triggers(conn, feed, "Zone")
    out: list[Series] = []
    for trigger, name in zip(ids, names, strict=True):
        stats, _ = _zone_quarters(
            conn,
            feed.location_id,
            trigger,
            zone,
            spans[0][0] if spans else 0,
            spans[-1][1] if spans else 0,
            now,
        )
        values: list[Value] = []
        for (start, _end), items in zip(spans, _per_bucket(spans, stats), strict=True):
            stays = sum(i.stays for i in items)
            values.append(
                None
                if start > now or stays == 0
                else round(sum(i.stay_ms for i in items) / stays / 1000, 1)
            )
        out.append((name, values, channels_of(conn, feed.location_id, [trigger])))
    return out


def queue_series(
    conn: Connection, feed: FeedRow, zone: tzinfo, spans: list[tuple[int, int]], now: int
) -> list[Series]:
    chosen = [
        q
        for q in occupancy_store.list_queues(conn, [feed.location_id])
        if not feed.queue_ids or q.id in feed.queue_ids
    ]
    out: list[Series] = []
    for queue in chosen:
        stats, measured_from = _zone_quarters(
            conn,
            feed.location_id,
            queue.zone_trigger,
            zone,
            spans[0][0] if spans else 0,
            spans[-1][1] if spans else 0,
            now,
        )
        values: list[Value] = []
        for (start, end), items in zip(spans, _per_bucket(spans, stats), strict=True):
            if measured_from is None or start > now or end <= measured_from:
                values.append(None)
                continue
            elapsed = min(end, now) - max(start, measured_from)
            area = sum(i.area_ms for i in items)
            values.append(round(area / elapsed, 2) if elapsed > 0 else 0.0)
        out.append((queue.name, values, channels_of(conn, feed.location_id, [queue.zone_trigger])))
    return out


def occupancy_series(
    conn: Connection, feed: FeedRow, zone: tzinfo, spans: list[tuple[int, int]], now: int
) -> list[Series]:
    chosen = [
        c
        for c in occupancy_store.list_counters(conn, [feed.location_id])
        if not feed.occupancy_ids or c.id in feed.occupancy_ids
    ]
    out: list[Series] = []
    for counter in chosen:
        if counter.zone_trigger is not None:
            stats, measured_from = _zone_quarters(
                conn,
                feed.location_id,
                counter.zone_trigger,
                zone,
                spans[0][0] if spans else 0,
                spans[-1][1] if spans else 0,
                now,
            )
            peaks: list[Value] = [
                max((i.peak for i in items), default=0) for items in _per_bucket(spans, stats)
            ]
        else:
            peaks, measured_from = _line_peaks(conn, counter, zone, spans, now)
        out.append(
            (
                counter.name,
                [
                    None if measured_from is None or start > now or end <= measured_from else peak
                    for (start, end), peak in zip(spans, peaks, strict=True)
                ],
                channels_of(
                    conn,
                    feed.location_id,
                    [*counter.enter_triggers, *counter.exit_triggers]
                    + ([counter.zone_trigger] if counter.zone_trigger else []),
                ),
            )
        )
    return out


def _line_peaks(
    conn: Connection, counter: CounterRow, zone: tzinfo, spans: list[tuple[int, int]], now: int
) -> tuple[list[Value], int | None]:
    """Peak of the count shown in each bucket, replaying the crossings from the reset
    before the first bucket (`domain.occupancy.line_timeline`: daily resets, a crossing
    exactly at a reset in the earlier period, calibrations and idle resets as the live
    value has them).

    A bucket's peak starts from the value just after its start: when a reset falls exactly
    on the start, the closing period's final value is not this bucket's."""
    triggers = [*counter.enter_triggers, *counter.exit_triggers]
    first = store.first_quarter(conn, counter.location_id, triggers, "TripwireCrossed")
    if first is None or not spans:
        return [0] * len(spans), None
    measured_from = hour_start(zone, first)
    begin = reset_period(spans[0][0], zone, counter.reset_minute)[0]
    end = min(spans[-1][1], now)
    moves: dict[int, int] = {}
    for when, trigger in occupancy_store.crossings(conn, counter.location_id, triggers, begin, end):
        delta = (trigger in counter.enter_triggers) - (trigger in counter.exit_triggers)
        moves[when] = moves.get(when, 0) + delta
    resets: list[int] = []
    reset = reset_period(begin + 1, zone, counter.reset_minute)[1]
    while reset <= end:
        resets.append(reset)
        reset = reset_period(reset + 1, zone, counter.reset_minute)[1]
    changes = line_timeline(
        moves,
        begin,
        end,
        resets=resets,
        calibrations=occupancy_store.calibrations(
            conn, counter.location_id, counter.id, begin, end
        ),
        max_idle_ms=counter.max_idle_ms,
        now=now,
    ).changes
    peaks: list[Value] = []
    position = shown = 0
    for start, stop in spans:
        stop = min(stop, now + 1)
        while position < len(changes) and changes[position][0] <= start:
            shown = changes[position][1]
            position += 1
        peak, scan = shown, position
        while scan < len(changes) and changes[scan][0] < stop:
            peak = max(peak, changes[scan][1])
            scan += 1
        peaks.append(peak if start <= now else None)
    return peaks, measured_from
