"""The histogram job (docs/api.md, Histograms): hourly occupancy and dwell of every Zone trigger.

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

Revisions: a stored hour recomputed to new figures is marked revised in the
same write (`services.revisions.mark_histograms`), so its announcement commits with it.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from footfall.domain.fair_order import interleave
from footfall.domain.histogram import hour_start
from footfall.domain.times import now_ms, parse_zone
from footfall.services.histogram_steps import STEP_HOURS, Failed, Step, TriggerJob
from footfall.store import locations as location_store
from footfall.store import zone_jobs
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.zones import ProgressRow

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

LEASE_MS = 120_000  # a step takes well under a second; renewed by every step
RETRY_MS = 60_000  # a trigger that failed is left alone this long
# A pass takes at most MAX_STEPS triggers (its claim and its write stay short statement
# sets) and stops once computing and writing would pass BUDGET_S: another location's new
# work then waits about a second, and a crash loses at most that.
MAX_STEPS = 256
BUDGET_S = 1.0


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
        steps: list[tuple[TriggerJob, Step | Failed | None]] = []
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

    def _plan(self, now: int, token: str) -> list[TriggerJob]:
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
            TriggerJob(self.db, row, zones[row.location_id], self.retention_days, self.clock, token)
            for row in itertools.islice(fair, self.max_steps)
        ]

    def _write(
        self,
        token: str,
        jobs: list[TriggerJob],
        steps: list[tuple[TriggerJob, Step | Failed | None]],
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
            finished: list[tuple[ProgressRow, int]] = []
            for job, step in steps:
                if job.key not in ours:
                    continue
                try:
                    with zone_jobs.step_savepoint(conn):
                        applied = job.apply(conn, step, now, zones_now[job.location_id])
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
                if applied.until is not None and job.row is not None:
                    finished.append((job.row, applied.until))
                if applied.hours:
                    written[(job.location_id, job.trigger_id)] = applied.hours
            zone_jobs.finish_all(conn, finished)  # every step written: one statement
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
    the exact span (`TriggerJob._span`) and does nothing when there is none."""
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
