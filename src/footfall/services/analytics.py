"""The histogram job (SPEC §5.2): hourly occupancy and dwell of every Zone trigger.

For each Zone trigger it computes every completed local hour from the hour of the
trigger's first join or leave on (never further back than the retention period: no raw
event is older). Work is incremental: a run starts from the earliest of (the first hour not
computed yet, the hour of the earliest event ingested since the last run), seeds the
replay with the open stays stored at the latest hour end before that, and writes every
hour up to the start of the current one. Replaying is causal — an event at time t changes
nothing before t — so this equals a replay of the whole history.

Robustness and fairness:
- Each trigger is claimed (`store.zone_jobs.claim_all`), computed and written on its own:
  exactly one run in any process works on it at a time, and a run whose claim lapsed
  writes nothing. A trigger that fails is logged with its id and retried after
  `RETRY_MS`, never blocking the others (its write is a savepoint of its own).
- Work is bounded and written as it goes: a pass (`HistogramJob.run_pass`) takes at most
  `MAX_STEPS` triggers, one step (at most `STEP_HOURS` hours) of each, computed and
  written within about `BUDGET_S`, and commits them before the next pass plans again.
- Locations go in turn, so one location's backlog delays another's histograms by at
  most one pass (see `HistogramJob`).
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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache

import msgspec
from sqlalchemy import Connection

from footfall.domain.fair_order import interleave
from footfall.domain.histogram import Histogram, hour_start, hourly_histograms
from footfall.domain.histogram import local_hours as _local_hours
from footfall.domain.stays import parse_snapshot, replay, snapshot_json
from footfall.domain.times import MS_PER_HOUR, now_ms, parse_zone
from footfall.domain.zone_stats import MS_PER_QUARTER, QuarterStats, merge_spans, quarter_stats
from footfall.services import revisions
from footfall.store import locations as location_store
from footfall.store import zone_jobs
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.zones import HistogramRow, ProgressRow

__all__ = [
    "BUDGET_S",
    "LEASE_MS",
    "MAX_STEPS",
    "RETRY_MS",
    "STEP_HOURS",
    "HistogramJob",
    "HistogramRun",
    "compute_histograms",
]

log = logging.getLogger("footfall.histograms")

STEP_HOURS = 24  # hours computed per step: a day of a busy zone is ~100k events
LEASE_MS = 120_000  # a step takes well under a second; renewed by every step
RETRY_MS = 60_000  # a trigger that failed is left alone this long
# A pass takes at most MAX_STEPS triggers (its claim and its write stay short statement
# sets) and stops once computing and writing would pass BUDGET_S: another location's new
# work then waits about a second, and a crash loses at most that.
MAX_STEPS = 256
BUDGET_S = 1.0
_MS_PER_DAY = 86_400_000
_ENCODER = msgspec.json.Encoder()


def _json(value: object) -> str:
    return _ENCODER.encode(value).decode()


@dataclass(frozen=True)
class HistogramRun:
    triggers: int  # triggers with hours written
    hours: int
    failed: int = 0
    steps: int = 0  # trigger steps taken (one step: up to STEP_HOURS hours of one trigger)
    more: bool = False  # one pass only: work was found, so another pass may find more


class HistogramJob:
    """The histogram job of one process, one bounded pass at a time (`run_pass`).

    A pass plans from the database (the triggers with work, not claimed elsewhere),
    takes at most `max_steps` of them in a fair order (`_plan`), claims them, computes
    one step of each (outside any transaction) while the computing so far plus writing
    them (at the cost per step the previous pass measured) fits in `budget_s`, and
    writes them in one transaction (each trigger in a savepoint of its own, so a failure
    rolls back only that trigger's step), releasing every claim. A crash loses at most
    that pass; a second process skips what this one holds.

    Fairness: locations go in turn (`domain.fair_order.interleave`): the ones this job
    served longest ago first, then the furthest behind; within a location its furthest-
    behind triggers first. So a location with 20,000 triggers to catch up on takes one
    slot per round like any other, and another location's histograms wait one pass.
    """

    def __init__(
        self,
        db: Database,
        *,
        retention_days: float | None = None,
        clock: Callable[[], int] = now_ms,
        max_steps: int = MAX_STEPS,
        budget_s: float | None = BUDGET_S,
    ) -> None:
        self.db = db
        self.retention_days = retention_days
        self.clock = clock
        self.max_steps = max_steps
        self.budget_s = budget_s
        self._passes = 0
        self._write_s = 0.0  # seconds to write one step, as the last pass measured
        self._served: dict[int, int] = {}  # location id -> the pass that last served it

    def run_until_idle(self) -> HistogramRun:
        """Passes until one finds nothing to do (tests, benchmarks, the CLI)."""
        written: dict[tuple[int, str], int] = {}
        failed = steps = 0
        while True:
            done = self._pass()
            for key, hours in done.written.items():
                written[key] = written.get(key, 0) + hours
            failed += done.failed
            steps += done.steps
            if not done.planned:
                return HistogramRun(len(written), sum(written.values()), failed, steps)

    def run_pass(self) -> HistogramRun:
        done = self._pass()
        return HistogramRun(
            len(done.written),
            sum(done.written.values()),
            done.failed,
            done.steps,
            more=done.planned > 0,
        )

    def _pass(self) -> _PassResult:
        self._passes += 1
        now = self.clock()
        token = secrets.token_hex(8)
        planned = self._plan(now, token)
        if not planned:
            return _PassResult({}, 0, 0, 0)
        with self.db.write() as conn:
            taken = zone_jobs.claim_all(
                conn, sorted(job.key for job in planned), token, now, now + LEASE_MS
            )
        rows = {(row.location_id, row.trigger_id): row for row in taken}
        jobs = [job for job in planned if job.take(rows.get(job.key))]
        steps: list[tuple[_TriggerJob, _Step | _Failed | None]] = []
        started = time.perf_counter()
        with self.db.read() as conn:  # one snapshot for the pass: the claims keep it current
            channels = zone_jobs.channels_of(conn, [job.key for job in jobs])
            for job in jobs:
                if steps and self._spent(time.perf_counter() - started, len(steps) + 1):
                    break  # the rest is released below, for the next pass
                steps.append((job, job.next_step(conn, channels.get(job.key, ""))))
        started = time.perf_counter()
        written, failed = self._write(token, jobs, steps)
        if steps:  # what writing a step costs here, learned as the job goes
            self._write_s = (time.perf_counter() - started) / len(steps)
        for job, _ in steps:
            self._served[job.location_id] = self._passes
        return _PassResult(written, failed, len(steps), len(planned))

    def _spent(self, computing_s: float, steps: int) -> bool:
        """Whether `steps` steps would take the pass past its budget: the computing done
        so far plus writing them all, at the cost the last pass measured."""
        return self.budget_s is not None and computing_s + steps * self._write_s > self.budget_s

    def _plan(self, now: int, token: str) -> list[_TriggerJob]:
        """The triggers this pass takes, in the fair order (see the class doc). Cheap per
        row: a location with 20,000 triggers is planned at every pass."""
        with self.db.read() as conn:
            zones = {loc.id: loc.timezone for loc in location_store.list_locations(conn)}
            ends = {name: hour_start(parse_zone(name), now) for name in set(zones.values())}
            bound = max(ends.values(), default=now)
            rows = zone_jobs.pending_progress(conn, now, bound)
        by_location: dict[int, list[ProgressRow]] = {}
        for row in rows:
            name = zones.get(row.location_id)
            if name is not None and _may_have_work(row, ends[name]):
                by_location.setdefault(row.location_id, []).append(row)
        for queue in by_location.values():
            queue.sort(key=lambda row: (_behind_since(row), row.trigger_id))
        order = sorted(
            by_location,
            key=lambda loc: (self._served.get(loc, 0), _behind_since(by_location[loc][0]), loc),
        )
        fair = interleave([by_location[loc] for loc in order])
        return [
            _TriggerJob(
                self.db, row, zones[row.location_id], self.retention_days, self.clock, token
            )
            for row in itertools.islice(fair, self.max_steps)
        ]

    def _write(
        self,
        token: str,
        jobs: list[_TriggerJob],
        steps: list[tuple[_TriggerJob, _Step | _Failed | None]],
    ) -> tuple[dict[tuple[int, str], int], int]:
        """The pass's one write: every step still ours, each in a savepoint; then every
        claim goes."""
        written: dict[tuple[int, str], int] = {}
        failed = 0
        now = self.clock()
        locations = sorted({job.location_id for job in jobs})
        with self.db.write() as conn:
            zones_now = {  # locked: new ids in commit order, and no zone change meanwhile
                location_id: zone_store.lock_location(conn, location_id)
                for location_id in sorted({job.location_id for job, _ in steps})
            }
            # A claim that lapsed and was taken over belongs to the other run now.
            ours = zone_jobs.held(conn, token, locations)
            for job, step in steps:
                if job.key not in ours:
                    continue
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
                    written[(job.location_id, job.trigger_id)] = hours
            zone_jobs.release_all(conn, token, locations)
        return written, failed


def _behind_since(row: ProgressRow) -> int:
    """The earliest instant whose hour needs computing (the planner's order)."""
    first = row.first_event_ms if row.computed_until is None else row.computed_until
    return first if row.dirty_from is None else min(first, row.dirty_from)


def _may_have_work(row: ProgressRow, current_hour: int) -> bool:
    """Whether a step may find work before `current_hour` (the start of the location's
    current local hour): a mark to clear, or a first hour not computed that lies before
    it (an instant before it is in an hour starting before it). The step itself finds
    the exact span (`_TriggerJob._span`) and does nothing when there is none."""
    if row.dirty_from is not None and row.computed_until is not None:
        return True
    first = row.first_event_ms if row.computed_until is None else row.computed_until
    return first < current_hour


@dataclass(frozen=True)
class _PassResult:
    written: dict[tuple[int, str], int]  # (location, trigger) -> hours written
    failed: int
    steps: int
    planned: int  # triggers the pass planned to take (0: nothing left to do)


def compute_histograms(
    db: Database, *, retention_days: float | None = None, clock: Callable[[], int] = now_ms
) -> HistogramRun:
    """Bring every Zone trigger up to date: bounded passes until none finds work."""
    return HistogramJob(db, retention_days=retention_days, clock=clock).run_until_idle()


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

    @property
    def key(self) -> tuple[int, str]:
        return (self.location_id, self.trigger_id)

    def take(self, row: ProgressRow | None) -> bool:
        """The pass claimed the trigger (`row`: its progress read after the claim), or
        not (None: another run holds it)."""
        self.row = row
        return row is not None

    def release(self, conn: Connection, *, retry_at: int | None = None) -> None:
        """Give the trigger up; with `retry_at`, no run takes it again before then."""
        zone_store.release_claim(
            conn, self.location_id, self.trigger_id, self.token, retry_at=retry_at
        )

    def next_step(self, conn: Connection, channel_id: str) -> _Step | _Failed | None:
        """Compute the next step (reading, outside any transaction); None: nothing to do."""
        assert self.row is not None
        span = self._span(self.row, self.clock())
        if span is None:
            return None
        try:
            return self._compute(conn, channel_id, self.row, *span)
        except Exception as exc:  # a poisoned trigger must not stop the others
            return _Failed(exc)

    def apply(
        self, conn: Connection, step: _Step | _Failed | None, now: int, zone_now: str | None
    ) -> int:
        """In the pass's transaction, the claim still ours: write the step if the
        location's zone (`zone_now`, read under its lock) is unchanged (else the change
        restarted the trigger in the new zone); returns the hours written."""
        if isinstance(step, _Failed):
            raise step.error
        row = self.row
        if zone_now != self.zone_name or row is None:
            return 0
        if step is None:
            if row.dirty_from is not None and row.computed_until is not None:
                # Only hours not complete yet were touched: nothing to recompute.
                zone_store.finish_progress(conn, row, row.computed_until, clean=True)
            return 0
        revised = zone_store.write_histograms(conn, self.location_id, step.hours, now)
        revisions.mark_histograms(conn, self.location_id, revised, now)
        zone_store.write_quarters(conn, self.location_id, self.trigger_id, step.stats)
        zone_store.finish_progress(conn, row, step.until, clean=True)
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

    def _compute(
        self, conn: Connection, channel_id: str, row: ProgressRow, start: int, end: int
    ) -> _Step:
        first_hour = hour_start(self.zone, row.first_event_ms)
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
        opened = parse_snapshot(snapshot.open_stays) if snapshot is not None else {}
        stays = replay(stored, open_at_start=opened, horizon_ms=end)
        hours = local_hours(self.zone, start, end)
        spans = _spans(self.zone, replay_from, end)
        swept = hourly_histograms(spans, stays, {e for _, e in hours})
        whole = _whole_quarters(replay_from, end)
        # Usually the spans are the quarters themselves (hours start on quarter-hours).
        by_quarter = swept if whole == spans else merge_spans(whole, swept)
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
