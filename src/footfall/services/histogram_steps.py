"""One step of the histogram job on one Zone trigger: claim, compute up to `STEP_HOURS`
completed local hours from the stored snapshot and events, write them, release.

Invariant: a step reads outside any transaction and writes only in the pass's transaction
while the trigger's claim is still held and the location's zone is the one it computed
in; a step that raised is handed back as `Failed`, so one poisoned trigger never stops
the others (docs/api.md, Histograms; `services.analytics` schedules the passes).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import lru_cache

import msgspec
from sqlalchemy import Connection

from footfall.domain.histogram import counting_seconds, hour_start
from footfall.domain.histogram import local_hours as _local_hours
from footfall.domain.stays import parse_snapshot, replay, snapshot_json
from footfall.domain.times import MS_PER_HOUR, parse_zone
from footfall.domain.zone_stats import MS_PER_QUARTER, QuarterStats, sweep_stats
from footfall.domain.zone_sweep import Sweep, sweep
from footfall.services import revisions
from footfall.store import histogram_rows
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.histogram_rows import HistogramRow
from footfall.store.zones import ProgressRow

__all__ = ["STEP_HOURS", "Applied", "Failed", "Step", "TriggerJob", "local_hours"]

STEP_HOURS = 24  # hours computed per step: a day of a busy zone is ~100k events
_MS_PER_DAY = 86_400_000
_ENCODER = msgspec.json.Encoder()


def _json(value: object) -> str:
    return _ENCODER.encode(value).decode()


@dataclass(frozen=True)
class Step:
    hours: list[HistogramRow]
    stats: list[QuarterStats]
    until: int


@dataclass(frozen=True)
class Applied:
    """What writing a step did: the hours written, and how far the trigger is computed
    now (`computed_until` to record; None: its progress stays as it is)."""

    hours: int
    until: int | None


class Failed:
    """A step whose computation raised: the trigger is released for a later retry."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class TriggerJob:
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

    def next_step(self, conn: Connection, channel_id: str) -> Step | Failed | None:
        """Compute the next step (reading, outside any transaction); None: nothing to do."""
        assert self.row is not None
        span = self._span(self.row, self.clock())
        if span is None:
            return None
        try:
            return self._compute(conn, channel_id, self.row, *span)
        except Exception as exc:  # a poisoned trigger must not stop the others
            return Failed(exc)

    def apply(
        self, conn: Connection, step: Step | Failed | None, now: int, zone_now: str | None
    ) -> Applied:
        """In the pass's transaction, the claim still ours: write the step if the
        location's zone (`zone_now`, read under its lock) is unchanged (else the change
        restarted the trigger in the new zone). The progress to record is handed back:
        the pass records all of its triggers' at once (`zone_jobs.finish_all`)."""
        if isinstance(step, Failed):
            raise step.error
        row = self.row
        if zone_now != self.zone_name or row is None:
            return Applied(0, None)
        if step is None:
            if row.dirty_from is not None and row.computed_until is not None:
                # Only hours not complete yet were touched: nothing to recompute.
                return Applied(0, row.computed_until)
            return Applied(0, None)
        revised = histogram_rows.write_histograms(conn, self.location_id, step.hours, now)
        revisions.mark_histograms(conn, self.location_id, revised, now)
        histogram_rows.write_quarters(conn, self.location_id, self.trigger_id, step.stats)
        return Applied(len(step.hours), step.until)

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
    ) -> Step:
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
        swept = sweep(spans, stays, {e for _, e in hours})
        whole = _whole_quarters(replay_from, end)
        # Usually the spans are the quarters themselves (hours start on quarter-hours).
        by_quarter = swept if whole == spans else swept.unions(whole)
        return Step(
            hours=_rows(self.trigger_id, channel_id, swept.unions(hours)),
            stats=sweep_stats(by_quarter),
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


def _rows(trigger_id: str, channel_id: str, by_hour: Sweep) -> list[HistogramRow]:
    """The stored form of each hour (`domain.histogram.Histogram`'s data, as JSON)."""
    return [
        HistogramRow(
            trigger_id=trigger_id,
            channel_id=channel_id,
            hour_start=start,
            hour_end=end,
            counting_data=_json(counting_seconds(counting)),
            lifetime_data=_json(lifetime),
            open_stays=snapshot_json(opened),
        )
        for (start, end), counting, lifetime, opened in zip(
            by_hour.spans, by_hour.counting, by_hour.lifetimes, by_hour.open_at_end, strict=True
        )
    ]
