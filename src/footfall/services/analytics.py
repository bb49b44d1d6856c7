"""The histogram job (SPEC §5.2): hourly occupancy and dwell of every Zone trigger.

For each Zone trigger it computes every completed local hour from the hour of the
trigger's first join or leave on (never further back than the retention period: no raw
event is older). Work is incremental: a run starts from the earliest of (the first hour not
computed yet, the hour of the earliest event ingested since the last run), seeds the
replay with the open stays stored at the latest hour end before that, and writes every
hour up to the start of the current one. Replaying is causal — an event at time t changes
nothing before t — so this equals a replay of the whole history.

Robustness (issue 12):
- Each trigger is claimed (`store.zones.claim_trigger`), computed and written on its own:
  exactly one run in any process works on it at a time, and a run whose claim lapsed
  writes nothing. A trigger that fails is logged with its id and retried after
  `RETRY_MS`, never blocking the others (its write is a savepoint of its own).
- Work is bounded: at most `STEP_HOURS` hours of a trigger are read and computed per
  step; each round of steps is written in one short transaction that renews the claims.
- Hours need not be whole quarter-hours apart from UTC's (a `+05:07` zone, local mean
  time): the sweep runs over the union of quarter-hour and local-hour boundaries, and
  both hours and quarters are unions of its spans.
- A run computes in the zone the location had when it started, and writes nothing if the
  zone changed meanwhile (the change restarted the trigger in the new zone).

Revisions (issue 17): a stored hour recomputed to new figures is marked revised in the
same write (`services.revisions.mark_histograms`), so its announcement commits with it.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache

import msgspec
from sqlalchemy import Connection

from footfall.domain.histogram import Histogram, hour_start, hourly_histograms
from footfall.domain.histogram import local_hours as _local_hours
from footfall.domain.stays import parse_snapshot, replay, snapshot_json
from footfall.domain.times import MS_PER_HOUR, now_ms, parse_zone
from footfall.domain.zone_stats import MS_PER_QUARTER, QuarterStats, merge_spans, quarter_stats
from footfall.services import revisions
from footfall.store import locations as location_store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.zones import HistogramRow, ProgressRow

__all__ = ["LEASE_MS", "RETRY_MS", "STEP_HOURS", "HistogramRun", "compute_histograms"]

log = logging.getLogger("footfall.histograms")

STEP_HOURS = 24  # hours computed per step: a day of a busy zone is ~100k events
LEASE_MS = 120_000  # a step takes well under a second; renewed by every step
RETRY_MS = 60_000  # a trigger that failed is left alone this long
_MS_PER_DAY = 86_400_000
_ENCODER = msgspec.json.Encoder()


def _json(value: object) -> str:
    return _ENCODER.encode(value).decode()


@dataclass(frozen=True)
class HistogramRun:
    triggers: int
    hours: int
    failed: int = 0


def compute_histograms(
    db: Database, *, retention_days: float | None = None, clock: Callable[[], int] = now_ms
) -> HistogramRun:
    """One pass of the job over every Zone trigger with work to do.

    It claims every such trigger in one transaction, then goes round them: each round
    computes one step of each (outside any transaction) and writes the round in one
    transaction, each trigger in a savepoint of its own, so a failure rolls back only that
    trigger's step. Few commits (each is an fsync on SQLite), bounded memory.
    """
    with db.read() as conn:
        progress = zone_store.load_progress(conn)
        zones = {loc.id: loc.timezone for loc in location_store.list_locations(conn)}
    token = secrets.token_hex(8)
    jobs = [
        _TriggerJob(db, row, zones[row.location_id], retention_days, clock, token)
        for row in progress
        if row.location_id in zones
    ]
    jobs = [job for job in jobs if job.has_work(clock())]
    if not jobs:
        return HistogramRun(0, 0)
    now = clock()
    with db.write() as conn:
        jobs = [job for job in jobs if job.claim(conn, now)]
    written: dict[tuple[int, str], int] = {}
    failed = 0
    while jobs:
        steps = [(job, job.next_step()) for job in jobs]
        now = clock()
        with db.write() as conn:
            zones_now = {  # locked: new ids in commit order, and no zone change meanwhile
                location_id: zone_store.lock_location(conn, location_id)
                for location_id in sorted({job.location_id for job in jobs})
            }
            for job, step in steps:
                try:
                    with conn.begin_nested():
                        hours = job.apply(conn, step, now, zones_now[job.location_id])
                except Exception:
                    log.exception(
                        "histogram job: trigger %r of location %s failed; retrying in %d s",
                        job.trigger_id,
                        job.location_id,
                        RETRY_MS // 1000,
                    )
                    job.release(conn, retry_at=now + RETRY_MS)
                    failed += 1
                    continue
                if hours:
                    key = (job.location_id, job.trigger_id)
                    written[key] = written.get(key, 0) + hours
        jobs = [job for job in jobs if not job.finished]
    return HistogramRun(len(written), sum(written.values()), failed)


@dataclass(frozen=True)
class _Step:
    hours: list[HistogramRow]
    stats: list[QuarterStats]
    until: int


class _Failed:
    """A step whose computation raised: the trigger is released for a later retry."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class _TriggerJob:
    """One run's work on one trigger: claim, then a step per round, then release."""

    def __init__(
        self,
        db: Database,
        row: ProgressRow,
        zone_name: str,
        retention_days: float | None,
        clock: Callable[[], int],
        token: str,
    ) -> None:
        self.db = db
        self.row: ProgressRow | None = row
        self.location_id = row.location_id
        self.trigger_id = row.trigger_id
        self.zone_name = zone_name
        self.zone = parse_zone(zone_name)
        self.retention_days = retention_days
        self.clock = clock
        self.token = token
        self.finished = False

    def has_work(self, now: int) -> bool:
        row = self.row
        if row is None:
            return False
        pending_mark = row.dirty_from is not None and row.computed_until is not None
        return pending_mark or self._span(row, now) is not None

    def claim(self, conn: Connection, now: int) -> bool:
        """Take the trigger (unless another run holds it) and re-read its progress."""
        if not zone_store.claim_trigger(
            conn, self.location_id, self.trigger_id, self.token, now, now + LEASE_MS
        ):
            return False
        self.row = zone_store.progress_of(conn, self.location_id, self.trigger_id)
        return self.row is not None

    def release(self, conn: Connection, *, retry_at: int | None = None) -> None:
        """Give the trigger up; with `retry_at`, no run takes it again before then."""
        self.finished = True
        zone_store.release_claim(
            conn, self.location_id, self.trigger_id, self.token, retry_at=retry_at
        )

    def next_step(self) -> _Step | _Failed | None:
        """Compute the next step (reading, outside any transaction); None: nothing to do."""
        assert self.row is not None
        span = self._span(self.row, self.clock())
        if span is None:
            return None
        try:
            return self._compute(self.row, *span)
        except Exception as exc:  # a poisoned trigger must not stop the others
            return _Failed(exc)

    def apply(
        self, conn: Connection, step: _Step | _Failed | None, now: int, zone_now: str | None
    ) -> int:
        """In the round's transaction: write the step if the claim is still ours and the
        location's zone (`zone_now`, read under its lock) is unchanged; returns the hours
        written."""
        if isinstance(step, _Failed):
            raise step.error
        if not zone_store.hold_claim(
            conn, self.location_id, self.trigger_id, self.token, now + LEASE_MS
        ):
            self.finished = True  # lapsed and taken over: the other run owns it now
            return 0
        row = self.row
        if zone_now != self.zone_name or row is None:
            self.release(conn)  # the change restarted the trigger in the new zone
            return 0
        if step is None:
            if row.dirty_from is not None and row.computed_until is not None:
                # Only hours not complete yet were touched: nothing to recompute.
                zone_store.finish_progress(conn, row, row.computed_until, clean=True)
            self.release(conn)
            return 0
        revised = zone_store.write_histograms(conn, self.location_id, step.hours, now)
        revisions.mark_histograms(conn, self.location_id, revised, now)
        zone_store.write_quarters(conn, self.location_id, self.trigger_id, step.stats)
        zone_store.finish_progress(conn, row, step.until, clean=True)
        self.row = zone_store.progress_of(conn, self.location_id, self.trigger_id)
        if not self.has_work(now):
            self.release(conn)
        return len(step.hours)

    def _span(self, row: ProgressRow, now: int) -> tuple[int, int] | None:
        """The hours [start, end) of the next step; None when there is nothing to do."""
        zone = self.zone
        oldest = (
            None if self.retention_days is None else now - int(self.retention_days * _MS_PER_DAY)
        )
        if row.computed_until is None:
            first = row.first_event_ms if oldest is None else max(row.first_event_ms, oldest)
            start = hour_start(zone, first)
        else:
            start = row.computed_until
            if row.dirty_from is not None:  # (no hour before the first one: a stray Loitering)
                start = min(start, hour_start(zone, max(row.dirty_from, row.first_event_ms)))
            if oldest is not None:  # hours past retention are never recomputed
                start = max(start, min(row.computed_until, hour_start(zone, oldest) + MS_PER_HOUR))
        target_end = hour_start(zone, now)  # the current hour is not complete yet
        if start >= target_end:
            return None
        # Bounded work: hours are at most 90 minutes, so STEP_HOURS of them fit here.
        # Bounded work. target_end is a boundary, so the last hour ends at or before it.
        hours = local_hours(zone, start, min(target_end, start + STEP_HOURS * MS_PER_HOUR))
        return start, hours[-1][1]

    def _compute(self, row: ProgressRow, start: int, end: int) -> _Step:
        first_hour = hour_start(self.zone, row.first_event_ms)
        with self.db.read() as conn:
            # Before the first hour nothing was open; later, the stored snapshot says what
            # was, at the end of the hour it was taken at (replayed from there).
            snapshot = (
                zone_store.snapshot_at(conn, self.location_id, self.trigger_id, start)
                if start > first_hour
                else None
            )
            replay_from = start if snapshot is None else snapshot.at
            stored = zone_store.read_zone_events(
                conn, self.location_id, self.trigger_id, replay_from, end
            )
            trigger = location_store.load_triggers(conn, self.location_id).get(self.trigger_id)
        opened = parse_snapshot(snapshot.open_stays) if snapshot is not None else {}
        stays = replay(stored, open_at_start=opened, horizon_ms=end)
        hours = local_hours(self.zone, start, end)
        spans = _spans(self.zone, replay_from, end)
        swept = hourly_histograms(spans, stays, {e for _, e in hours})
        whole = _whole_quarters(replay_from, end)
        # Usually the spans are the quarters themselves (hours start on quarter-hours).
        by_quarter = swept if whole == spans else merge_spans(whole, swept)
        channel_id = trigger.channel_id if trigger is not None else ""
        return _Step(
            hours=[_row(self.trigger_id, channel_id, h) for h in merge_spans(hours, swept)],
            stats=quarter_stats(by_quarter),
            until=end,
        )


@lru_cache(maxsize=1024)
def local_hours(zone: tzinfo, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """`domain.histogram.local_hours`, remembered: every zone trigger of a location asks
    for the same hours several times per step, and finding DST boundaries is not free."""
    return tuple(_local_hours(zone, start, end))


def _spans(zone: tzinfo, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at every UTC quarter-hour and every local hour boundary: local
    hours and quarters are both unions of these (all quarters in any zone of today)."""
    cuts = {start, end}
    cuts.update(range(start - start % MS_PER_QUARTER + MS_PER_QUARTER, end, MS_PER_QUARTER))
    cuts.update(h for h, _ in local_hours(zone, start, end) if start < h)
    ordered = sorted(cuts)
    return list(itertools.pairwise(ordered))


def _whole_quarters(start: int, end: int) -> list[tuple[int, int]]:
    first = -(-start // MS_PER_QUARTER) * MS_PER_QUARTER
    return [(q, q + MS_PER_QUARTER) for q in range(first, end - MS_PER_QUARTER + 1, MS_PER_QUARTER)]


def _row(trigger_id: str, channel_id: str, hour: Histogram) -> HistogramRow:
    return HistogramRow(
        trigger_id=trigger_id,
        channel_id=channel_id,
        hour_start=hour.start_ms,
        hour_end=hour.end_ms,
        counting_data=_json(hour.counting_data),
        lifetime_data=_json(hour.lifetime_data),
        open_stays=snapshot_json(hour.open_at_end),
    )
