"""Report feeds (SPEC §7): saved reports behind an unguessable token, for spreadsheets.

Reports are read from derived data: event counts from the quarter-hour rollups, zone
metrics (dwell, queue length, zone occupancy) from the quarter statistics the histogram
job keeps. Two parts are computed live, both bounded: the current hour of a zone (not yet
processed by the job, replayed from its stored snapshot), and the peaks of a line
counter (enter/exit crossings since the reset before the report, which no rollup can
give: the peak inside a quarter-hour depends on the order of the crossings in it).

Coverage (issue 17, a feed created with `coverage`): every series gets, per bucket, the
share (0-1) of the bucket's elapsed time its channels were covered (the mean over the
channels whose coverage is known then), and a bucket whose channels were not covered at
all has the value `null`, not 0: an offline camera is not a quiet hour. Where no channel
of a series has coverage yet (an agent that never sent a heartbeat, data from before
coverage existed) the coverage is `null` and the value is as it always was.
"""

from __future__ import annotations

import secrets
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.domain import vocabulary as v
from footfall.domain.feeds import GRANULARITIES, METRICS, PERIODS, buckets, period_range
from footfall.domain.histogram import hour_start, hourly_histograms
from footfall.domain.occupancy import line_timeline, reset_period
from footfall.domain.read_params import Params
from footfall.domain.stays import parse_snapshot, replay
from footfall.domain.times import format_local, format_local_seconds, now_ms, parse_zone, to_ms
from footfall.domain.zone_stats import MS_PER_QUARTER, QuarterStats, quarter_stats
from footfall.services import coverage as coverage_service
from footfall.services.errors import NotFoundError, ServiceError
from footfall.services.management import hash_token
from footfall.store import feeds as store
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store import reads
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.feeds import FeedRow
from footfall.store.occupancy import CounterRow

__all__ = [
    "IssuedFeed",
    "Report",
    "build_report",
    "create_feed",
    "list_feeds",
    "revoke_feed",
    "revoke_feed_by_id",
]

Value = float | int | None
# A built series: its name, a value per bucket, and the channels its values come from.
Series = tuple[str, list[Value], frozenset[str]]


@dataclass(frozen=True)
class Report:
    feed: FeedRow
    zone: tzinfo
    since: int
    until: int
    starts: list[int]
    series: list[tuple[str, list[Value]]]
    counter: int | None = None
    # With the feed's coverage: per series a share per bucket (or, for `counter`, one).
    coverage: list[list[float | None]] | None = None
    counter_coverage: float | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any]
        if self.feed.metric == "counter":
            data = {"counter": self.counter}
            if self.feed.coverage:
                data["coverage"] = self.counter_coverage
        else:
            shares = self.coverage or [[None] * len(self.starts) for _ in self.series]
            data = {
                "series": [
                    {
                        "name": name,
                        "data": [
                            {"time": format_local_seconds(start, self.zone), "value": value}
                            | ({"coverage": share} if self.feed.coverage else {})
                            for start, value, share in zip(
                                self.starts, values, covered, strict=True
                            )
                        ],
                    }
                    for (name, values), covered in zip(self.series, shares, strict=True)
                ]
            }
        return {
            "report": {
                "name": self.feed.name,
                "metric": self.feed.metric,
                "granularity": self.feed.granularity,
                "since": format_local(self.since, self.zone),
                "until": format_local(self.until, self.zone),
                "data": data,
            }
        }

    def csv_rows(self) -> tuple[list[str], list[tuple[str, Sequence[Value]]]]:
        """Times and columns; with coverage, each series is followed by its coverage."""
        if self.feed.metric == "counter":
            columns: list[tuple[str, Sequence[Value]]] = [(self.feed.name, [self.counter])]
            if self.feed.coverage:
                columns.append((f"{self.feed.name} coverage", [self.counter_coverage]))
            return [_csv_time(self.since, self.zone)], columns
        if not self.feed.coverage or self.coverage is None:
            return [_csv_time(s, self.zone) for s in self.starts], list(self.series)
        columns = []
        for (name, values), shares in zip(self.series, self.coverage, strict=True):
            columns += [(name, values), (f"{name} coverage", shares)]
        return [_csv_time(s, self.zone) for s in self.starts], columns


def _csv_time(ms: int, zone: tzinfo) -> str:
    return format_local_seconds(ms, zone)[:16].replace("T", " ")


# -- management --------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedFeed:
    """A new feed and its token: shown once, stored only as a hash (like ingest tokens)."""

    feed: FeedRow
    token: str


def _parse_time(option: str, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            f"{option} {text!r}: expected ISO 8601 such as 2026-11-24T00:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise ServiceError(f"{option} {text!r}: add the UTC offset (Z or ±HH:MM)")
    return to_ms(moment)


def create_feed(
    db: Database,
    *,
    location_id: int,
    name: str,
    metric: str,
    triggers: tuple[str, ...] = (),
    occupancy_ids: tuple[int, ...] = (),
    queue_ids: tuple[int, ...] = (),
    event_types: tuple[str, ...] = (),
    origins: tuple[str, ...] = (),
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    granularity: str = "hour",
    coverage: bool = False,
) -> IssuedFeed:
    if metric not in METRICS:
        raise ServiceError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    if granularity not in GRANULARITIES:
        raise ServiceError(f"--granularity {granularity!r}: expected 15min, hour or day")
    if triggers and metric in ("occupancy", "queue"):
        raise ServiceError(f"--triggers does not apply to {metric}: use --{metric} ID")
    if occupancy_ids and metric != "occupancy":
        raise ServiceError("--occupancy only applies to --metric occupancy")
    if queue_ids and metric != "queue":
        raise ServiceError("--queue only applies to --metric queue")
    if (event_types or origins) and metric not in ("count", "counter"):
        raise ServiceError("--event-type and --origin only apply to count and counter")
    for kind in event_types:
        if kind not in v.EVENT_TYPES:
            raise ServiceError(f"--event-type {kind!r}: not an event type of SPEC §2")
    for origin in origins:
        if origin not in v.ORIGINS:
            raise ServiceError(f"--origin {origin!r}: expected one of {', '.join(v.ORIGINS)}")
    since_ms = until_ms = None
    if period is not None:
        if since is not None or until is not None:
            raise ServiceError("give either --period or --since and --until, not both")
        if period not in PERIODS:
            raise ServiceError(f"--period {period!r}: expected one of {', '.join(PERIODS)}")
    elif since is not None and until is not None:
        since_ms, until_ms = _parse_time("--since", since), _parse_time("--until", until)
        if since_ms >= until_ms:
            raise ServiceError("--since must be before --until")
    elif since is not None or until is not None:
        raise ServiceError("--since and --until go together")
    else:
        period = "today"
    if not name.strip():
        raise ServiceError("--name must not be empty")
    with db.write() as conn:
        location = location_store.get_location(conn, location_id)
        if location is None:
            raise NotFoundError(f"no location {location_id}: see `footfall locations list`")
        known = location_store.load_triggers(conn, location_id)
        for trigger in triggers:
            if trigger not in known:
                raise ServiceError(f"--triggers: location {location_id} has no trigger {trigger!r}")
            if metric == "dwell" and known[trigger].type != "Zone":
                raise ServiceError(f"--triggers: dwell needs Zone triggers; {trigger!r} is not")
        counters = {c.id for c in occupancy_store.list_counters(conn, [location_id])}
        for counter in occupancy_ids:
            if counter not in counters:
                raise ServiceError(f"--occupancy: location {location_id} has no counter {counter}")
        queues = {q.id for q in occupancy_store.list_queues(conn, [location_id])}
        for queue in queue_ids:
            if queue not in queues:
                raise ServiceError(f"--queue: location {location_id} has no queue {queue}")
        token = secrets.token_hex(16)
        feed = FeedRow(
            0,
            location.account_id,
            location_id,
            token[:8],
            name.strip(),
            metric,
            triggers,
            occupancy_ids,
            queue_ids,
            event_types,
            origins,
            period,
            since_ms,
            until_ms,
            granularity,
            now_ms(),
            None,
            coverage,
        )
        return IssuedFeed(replace(feed, id=store.insert_feed(conn, feed, hash_token(token))), token)


def list_feeds(db: Database, location_id: int | None = None) -> list[FeedRow]:
    with db.read() as conn:
        return store.list_feeds(conn, location_id)


def revoke_feed(db: Database, token: str) -> None:
    with db.write() as conn:
        if not store.revoke_feed(conn, now_ms(), token_hash=hash_token(token)):
            raise NotFoundError(f"no active feed with token {token!r}: see `footfall feeds list`")


def revoke_feed_by_id(db: Database, feed_id: int) -> None:
    with db.write() as conn:
        if not store.revoke_feed(conn, now_ms(), feed_id=feed_id):
            raise NotFoundError(f"no active feed {feed_id}")


# -- reports -----------------------------------------------------------------------------


def build_report(db: Database, token: str, now: int | None = None) -> Report:
    now = now_ms() if now is None else now
    with db.read() as conn:
        feed = store.get_feed(conn, hash_token(token))
        if feed is None or feed.revoked_at is not None:
            raise NotFoundError("no such feed")
        location = location_store.get_location(conn, feed.location_id)
        assert location is not None
        zone = parse_zone(location.timezone)
        if feed.period is not None:
            since, until = period_range(feed.period, now, zone)
        else:
            assert feed.since_ms is not None
            assert feed.until_ms is not None
            since, until = feed.since_ms, feed.until_ms
        spans = buckets(since, until, feed.granularity, zone)
        report = Report(feed, zone, since, until, [s for s, _ in spans], [])
        if feed.metric == "counter":
            counted, channels = _counter(conn, feed, since, until, now)
            if not feed.coverage:
                return replace(report, counter=counted)
            share = _shares(conn, feed, [(since, until)], [channels], now)[0][0]
            return replace(report, counter=None if share == 0 else counted, counter_coverage=share)
        builder = {
            "count": _count_series,
            "dwell": _dwell_series,
            "queue": _queue_series,
            "occupancy": _occupancy_series,
        }[feed.metric]
        built = builder(conn, feed, zone, spans, now)
        series = [(name, values) for name, values, _ in built]
        if not feed.coverage:
            return replace(report, series=series)
        shares = _shares(conn, feed, spans, [channels for _, _, channels in built], now)
        return replace(
            report,
            # Nothing covered at all: the figure would be a guess; null, not 0.
            series=[
                (name, [None if c == 0 else v for v, c in zip(values, covered, strict=True)])
                for (name, values), covered in zip(series, shares, strict=True)
            ],
            coverage=shares,
        )


def _shares(
    conn: Connection,
    feed: FeedRow,
    spans: Sequence[tuple[int, int]],
    channel_sets: Sequence[frozenset[str]],
    now: int,
) -> list[list[float | None]]:
    """Per series and bucket, the covered share of the bucket's elapsed part (mean over
    the series' channels with known coverage; None where none is known or the bucket has
    not started)."""
    everything = sorted(set().union(*channel_sets)) if channel_sets else []
    if not spans or not everything:
        return [[None] * len(spans) for _ in channel_sets]
    stored = coverage_service.channel_coverage(
        conn, feed.location_id, everything, spans[0][0], min(spans[-1][1], now + 1)
    )
    out: list[list[float | None]] = []
    for channels in channel_sets:
        shares: list[float | None] = []
        for start, end in spans:
            stop = min(end, now)
            known = [stored[c] for c in sorted(channels) if stored[c].known(stop)]
            if start > now or not known:
                shares.append(None)
                continue
            elapsed = max(1, -(-(stop - start) // 1000))
            share = sum(min(1.0, c.seconds(start, stop) / elapsed) for c in known) / len(known)
            # Three decimals, but never a covered bucket shown as 0 (its value is real).
            shares.append(0.0 if share == 0 else max(0.001, round(share, 3)))
        out.append(shares)
    return out


def _named(ids: Sequence[str], names: dict[str, str]) -> list[str]:
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
    return ids, _named(ids, {t: row.name for t, row in known.items()})


def _channels_of(conn: Connection, location_id: int, trigger_ids: Sequence[str]) -> frozenset[str]:
    known = location_store.load_triggers(conn, location_id)
    return frozenset(known[t].channel_id for t in trigger_ids if t in known)


def _index(spans: Sequence[tuple[int, int]], instant: int) -> int:
    return bisect_right([s for s, _ in spans], instant) - 1


def _count_series(
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
            _channels_of(conn, feed.location_id, [t]),
        )
        for t, name in zip(ids, names, strict=True)
    ]


def _counter(
    conn: Connection, feed: FeedRow, since: int, until: int, now: int
) -> tuple[int, frozenset[str]]:
    """Events of the chosen triggers with event_time <= now in [since, until) (whole
    quarters from the rollups, the partial quarters at the edges from raw events), and
    the channels they come from."""
    ids, _ = _triggers(conn, feed)
    channels = _channels_of(conn, feed.location_id, ids)
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


def _dwell_series(
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
        out.append((name, values, _channels_of(conn, feed.location_id, [trigger])))
    return out


def _queue_series(
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
        out.append((queue.name, values, _channels_of(conn, feed.location_id, [queue.zone_trigger])))
    return out


def _occupancy_series(
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
                _channels_of(
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
