"""Daily partitions of `events` on PostgreSQL (SPEC §3); SQLite keeps one plain table.

Invariants:
- `events` is partitioned by range of `event_time`: partition `events_pYYYYMMDD` holds the
  UTC day [day, day + 1 day) in milliseconds. There is no default partition, so a row can
  only be stored once its day's partition exists. Ingest makes sure of that before its
  write transaction (`PartitionSet.ensure`, cached per process, so the hot path runs no DDL
  and no catalog query), and the retention job creates today's and the next days' ahead.
- Partitions exist only for days that hold (or are about to hold) events: a backfill of
  last month creates the days it fills, nothing in between.
- A partition is created as a plain table and then attached: ATTACH takes a SHARE UPDATE
  EXCLUSIVE lock on `events`, which blocks neither reads nor writes (`CREATE TABLE ...
  PARTITION OF` would take ACCESS EXCLUSIVE and stall every ingest for the moment). A
  transaction-scoped advisory lock serialises creators across processes, so two never
  race for one day.
- Retention drops whole days (`drop_days_before`): a partition whose last instant is
  before the cutoff is detached CONCURRENTLY (no lock that blocks ingest or reads) and
  dropped. A detach cut short by a crash leaves the partition "detach pending"; the next
  run finalises it before anything else.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Connection, text

from footfall.store.db import Database

__all__ = [
    "MS_PER_DAY",
    "PartitionSet",
    "create_day",
    "day_of",
    "drop_days_before",
    "partition_days",
    "partition_name",
]

MS_PER_DAY: Final = 86_400_000
_PREFIX: Final = "events_p"
_NAME: Final = re.compile(r"^events_p(\d{4})(\d{2})(\d{2})$")
_NUMBERED: Final = re.compile(r"^events_pday_(m?)(\d+)$")
# Any constant: the key of the advisory lock that serialises partition DDL.
_DDL_LOCK: Final = 0x466F6F7466616C6C  # "Footfall"
_EPOCH_ORDINAL: Final = datetime(1970, 1, 1, tzinfo=UTC).toordinal()
_LAST_ORDINAL: Final = datetime(9999, 12, 31).toordinal()


def day_of(ms: int) -> int:
    """The start (UTC ms) of the UTC day holding `ms`."""
    return ms - ms % MS_PER_DAY


def partition_name(day: int) -> str:
    """`events_pYYYYMMDD` for the UTC day starting at `day`; outside the years 1-9999
    (only legacy rows of year 0 or 10000 UTC), `events_pday_N` with N days since 1970
    (`m` for minus)."""
    ordinal = _EPOCH_ORDINAL + day // MS_PER_DAY
    if 1 <= ordinal <= _LAST_ORDINAL:
        date = datetime.fromordinal(ordinal)
        return f"{_PREFIX}{date.year:04d}{date.month:02d}{date.day:02d}"
    number = day // MS_PER_DAY
    return f"{_PREFIX}day_{'m' if number < 0 else ''}{abs(number)}"


def _day_of_name(name: str) -> int | None:
    found = _NAME.match(name)
    if found is not None:
        year, month, day = (int(part) for part in found.groups())
        return (datetime(year, month, day).toordinal() - _EPOCH_ORDINAL) * MS_PER_DAY
    found = _NUMBERED.match(name)
    if found is not None:
        return (-1 if found.group(1) else 1) * int(found.group(2)) * MS_PER_DAY
    return None


def partition_days(conn: Connection) -> dict[int, bool]:
    """Every partition of `events`: day start -> whether a detach of it is pending."""
    rows = conn.execute(
        text(
            "SELECT c.relname, i.inhdetachpending FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass"
        )
    ).all()
    days: dict[int, bool] = {}
    for name, pending in rows:
        day = _day_of_name(name)
        if day is not None:
            days[day] = bool(pending)
    return days


def create_day(conn: Connection, day: int) -> bool:
    """Create and attach the partition of `day` unless it exists; True if created.

    Runs in the caller's transaction, which should do nothing else (it holds the DDL
    lock until it ends)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
    if day in partition_days(conn):
        return False
    name = partition_name(day)
    # LIKE copies the columns, NOT NULLs and defaults (the id sequence); ATTACH then
    # builds the partition's share of every index of `events` (instant on an empty table).
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # a leftover of a failed attach
    conn.execute(text(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"ALTER TABLE events ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({day}) TO ({day + MS_PER_DAY})"
        )
    )
    return True


class PartitionSet:
    """The days this process knows to have a partition; creates the missing ones."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[int] = set()
        self._lock = threading.Lock()

    def ensure(self, days: Iterable[int]) -> int:
        """Make sure every day in `days` (UTC day starts) has a partition; returns how
        many this call created. Costs a set lookup when all are known."""
        if self.db.is_sqlite:
            return 0
        missing = set(days) - self._known
        if not missing:
            return 0
        with self._lock:
            missing -= self._known
            if not missing:
                return 0
            with self.db.read() as conn:
                self._known.update(d for d, pending in partition_days(conn).items() if not pending)
            created = 0
            for day in sorted(missing - self._known):
                with self.db.write() as conn:
                    created += create_day(conn, day)
                self._known.add(day)
            return created

    def forget(self) -> None:
        """Drop the cache (after a retention run, or an insert that found no partition)."""
        with self._lock:
            self._known.clear()


def drop_days_before(db: Database, cutoff_ms: int) -> list[int]:
    """Detach and drop every partition wholly before `cutoff_ms`; the days dropped.

    DETACH ... CONCURRENTLY cannot run inside a transaction, so each step is its own
    autocommit statement; a crash between them is finished by the next run."""
    if db.is_sqlite:
        return []
    with db.read() as conn:
        days = partition_days(conn)
    doomed = sorted(day for day in days if day + MS_PER_DAY <= cutoff_ms)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in _detached_leftovers(conn):  # detached by a run that crashed before DROP
            conn.execute(text(f"DROP TABLE {name}"))
        for day in doomed:
            name = partition_name(day)
            if days[day]:  # interrupted earlier: the first phase already ran
                conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name} FINALIZE"))
            else:
                conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name} CONCURRENTLY"))
            conn.execute(text(f"DROP TABLE {name}"))
    return doomed


def _detached_leftovers(conn: Connection) -> list[str]:
    """Tables named like a partition that are not one (any more)."""
    names = conn.execute(
        text(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND NOT relispartition "
            "AND relname LIKE 'events\\_p%' AND relnamespace = current_schema()::regnamespace"
        )
    ).scalars()
    return [name for name in names if _day_of_name(name) is not None]
