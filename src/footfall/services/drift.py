"""Drift of line counters: an operator's head count, a max idle, and the audit trail of
both (docs/api.md, Occupancy counters).

`calibrate` stores an operator's head count (who and when) in the counter's audit trail,
and the value counts from it at once; a counter's max idle makes it go back to 0 after
that long without a crossing (`domain.occupancy.line_timeline` derives these idle resets
from the events, so a late crossing moves them). The audit job (`IdleResetAudit`) writes
each idle reset the current period went through into the trail once, in any number of
processes (the counter's row lock, `ON CONFLICT DO NOTHING`), and marks one that later
events cancelled as withdrawn. A counter that fails (a poisoned row) is logged and skipped
for `AUDIT_RETRY_MS`; the others go on. Zone counters do not drift (stays close on their
own) and are refused here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import tzinfo

from sqlalchemy import Connection

from footfall.domain.fair_order import interleave
from footfall.domain.occupancy import format_duration
from footfall.domain.times import now_ms, parse_zone
from footfall.services.errors import NotFoundError, ServiceError
from footfall.services.occupancy import (
    CounterValue,
    counter_value,
    existing_location,
    max_idle_ms,
)
from footfall.store import locations as location_store
from footfall.store import occupancy as store
from footfall.store.db import Database
from footfall.store.occupancy import AuditRow, CounterRow

__all__ = [
    "AUDIT_RETRY_MS",
    "MAX_CALIBRATION",
    "AuditEntry",
    "IdleResetAudit",
    "audit_trail",
    "calibrate",
    "set_max_idle",
]

# Audit entries as the service hands them out.
AuditEntry = AuditRow

MAX_CALIBRATION = 1_000_000
AUDIT_RETRY_MS = 60_000
log = logging.getLogger("footfall.occupancy")


def _actor(by: str) -> str:
    who = by.strip()
    if not who or len(who) > 100 or not who.isprintable():
        raise ServiceError(f"--by {by!r}: expected who did it, 1 to 100 printable characters")
    return who


def _line_counter(conn: Connection, counter_id: int) -> CounterRow:
    counter = store.lock_counter(conn, counter_id)
    if counter is None:
        raise NotFoundError(f"no occupancy counter {counter_id}: see `footfall occupancy list`")
    if counter.zone_trigger is not None:
        raise ServiceError(
            f"counter {counter_id} counts zone {counter.zone_trigger!r}, which does not drift "
            "(stays close 4 hours after the last sign of presence): calibration and "
            "--max-idle apply to line counters"
        )
    return counter


def calibrate(
    db: Database, counter_id: int, value: int, *, by: str, clock: Callable[[], int] = now_ms
) -> CounterValue:
    """An operator's head count, effective at once and logged with who and when."""
    if not 0 <= value <= MAX_CALIBRATION:
        raise ServiceError(f"--value {value}: expected a head count from 0 to {MAX_CALIBRATION}")
    actor = _actor(by)
    with db.write() as conn:
        counter = _line_counter(conn, counter_id)
        location = existing_location(conn, counter.location_id)
        zone = parse_zone(location.timezone)
        at = clock()
        before = counter_value(conn, counter, zone, at)
        latest = store.audit_rows(conn, counter_id=counter_id, kind="calibration", limit=1)
        if latest and latest[0].at >= at:  # two within one millisecond: keep both, in order
            at = latest[0].at + 1
        store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter_id,
                at,
                "calibration",
                actor,
                before.occupancy,
                value,
                f"head count {value} (the counter said {before.occupancy})",
                None,
            ),
        )
        return counter_value(conn, counter, zone, max(at, clock()))


def set_max_idle(
    db: Database, counter_id: int, max_idle: str, *, by: str, clock: Callable[[], int] = now_ms
) -> CounterRow:
    """Set (a duration) or clear (`off`) a line counter's max idle, logged in its trail."""
    idle_ms = None if max_idle.strip().lower() == "off" else max_idle_ms(max_idle)
    actor = _actor(by)
    with db.write() as conn:
        counter = _line_counter(conn, counter_id)
        store.set_max_idle(conn, counter_id, idle_ms)
        store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter_id,
                clock(),
                "max_idle",
                actor,
                None,
                None,
                "max idle off" if idle_ms is None else f"max idle {format_duration(idle_ms)}",
                None,
            ),
            if_new=True,
        )
    return replace(counter, max_idle_ms=idle_ms)


def audit_trail(
    db: Database,
    *,
    location_id: int | None = None,
    counter_id: int | None = None,
    limit: int = 100,
) -> list[AuditRow]:
    with db.read() as conn:
        return store.audit_rows(
            conn,
            location_ids=None if location_id is None else [location_id],
            counter_id=counter_id,
            limit=limit,
        )


class IdleResetAudit:
    """The audit job (one per server process): each pass records the idle resets of the
    current period of every counter with a max idle, and withdraws recorded ones that no
    longer happened. It reads first, and writes (under the counter's lock) only when the
    trail is out of step; a counter that fails is left alone for AUDIT_RETRY_MS."""

    def __init__(self, db: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        self._failing: dict[int, int] = {}  # counter id -> when to try it again

    def run(self) -> int:
        """One pass; returns the rows written."""
        written = 0
        with self.db.read() as conn:
            counters = [c for c in store.list_counters(conn) if c.max_idle_ms is not None]
            zones = {loc.id: loc.timezone for loc in location_store.list_locations(conn)}
        by_location: dict[int, list[CounterRow]] = {}
        for counter in counters:
            by_location.setdefault(counter.location_id, []).append(counter)
        # Locations in turn, each counter its own transaction: a location with many
        # counters does not hold the others back until all of its own are audited.
        for counter in interleave(list(by_location.values())):
            now = self.clock()
            if self._failing.get(counter.id, 0) > now or counter.location_id not in zones:
                continue
            try:
                written += self._audit(counter, parse_zone(zones[counter.location_id]), now)
                self._failing.pop(counter.id, None)
            except Exception:
                log.exception(
                    "occupancy audit: counter %s failed; retrying in %d s",
                    counter.id,
                    AUDIT_RETRY_MS // 1000,
                )
                self._failing[counter.id] = now + AUDIT_RETRY_MS
        return written

    def _audit(self, counter: CounterRow, zone: tzinfo, now: int) -> int:
        with self.db.read() as conn:
            if _reconcile(conn, counter, zone, now, dry_run=True) == 0:
                return 0
        with self.db.write() as conn:
            locked = store.lock_counter(conn, counter.id)
            if locked is None or locked.max_idle_ms is None:
                return 0
            return _reconcile(conn, locked, zone, self.clock(), dry_run=False)


def _reconcile(
    conn: Connection, counter: CounterRow, zone: tzinfo, now: int, *, dry_run: bool
) -> int:
    """Bring the trail's idle resets of the current period in line with the events;
    returns how many rows that takes (written unless `dry_run`)."""
    value = counter_value(conn, counter, zone, now)
    derived = {r.at: r for r in value.idle_resets}
    recorded = {
        r.at
        for r in store.audit_rows(
            conn, counter_id=counter.id, kind="idle_reset", since=value.period_start, limit=10_000
        )
        if r.withdrawn_at is None
    }
    missing = [derived[at] for at in sorted(set(derived) - recorded)]
    gone = sorted(recorded - set(derived))
    if dry_run:
        return len(missing) + len(gone)
    assert counter.max_idle_ms is not None
    idle = format_duration(counter.max_idle_ms)
    count = 0
    for reset in missing:
        note = f"no crossing for {idle}"
        if reset.raw_before < 0:
            note += f" (exits exceeded enters by {-reset.raw_before})"
        count += store.insert_audit(
            conn,
            AuditRow(
                counter.location_id,
                counter.id,
                reset.at,
                "idle_reset",
                "max-idle",
                reset.value_before,
                0,
                note,
                None,
            ),
            if_new=True,
        )
    store.withdraw_idle_resets(conn, counter.location_id, counter.id, gone, now)
    return count + len(gone)
