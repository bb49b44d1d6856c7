"""Weekly partitions of `events` on PostgreSQL (docs/api.md, The ingest API); SQLite keeps one
plain table.

Invariants:
- `events` is partitioned by range of `event_time`: partition `events_pYYYYMMDD` holds the
  UTC week [Monday 00:00, next Monday 00:00) starting on that date, in milliseconds. There
  is no default partition, so a row can only be stored once its week's partition exists.
  Ingest makes sure of that before its write transaction (`PartitionSet.ensure`, cached per
  process, so the hot path runs no DDL and no catalog query), and the retention job creates
  the current week's and the next one's ahead.
- Partitions exist only for weeks that hold (or are about to hold) events: a backfill of
  last year creates the weeks it fills, nothing in between.
- Why weeks, not days (measured, docs/scaling.md): a statement that cannot prune by time
  (ingest's duplicate probe, `/events` paged by `after_id`) locks every partition and its
  four indexes. With 90 daily partitions that is 453 locks per transaction, and about 14
  such transactions at once exhaust PostgreSQL's default lock table (64 x 100 slots): "out
  of shared memory". With 13 weekly partitions it is about 70, and the probe costs 0.5 ms
  instead of 2.8. The price: raw events outlive the retention period by up to a week.
- A partition is created as a plain table and then attached: ATTACH takes a SHARE UPDATE
  EXCLUSIVE lock on `events`, which blocks neither reads nor writes (`CREATE TABLE ...
  PARTITION OF` would take ACCESS EXCLUSIVE and stall every ingest for the moment). A
  transaction-scoped advisory lock serialises creators across processes, so two never
  race for one week.
- Retention drops whole weeks (`drop_weeks_before`): a partition whose last instant is
  before the cutoff is detached CONCURRENTLY (no lock that blocks ingest or reads) and
  dropped. A detach cut short by a crash leaves the partition "detach pending", and one
  detached but not dropped is left as a plain table; the next run finishes both.
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
    "MS_PER_WEEK",
    "PartitionSet",
    "create_week",
    "drop_weeks_before",
    "partition_name",
    "partition_weeks",
    "week_of",
]

MS_PER_DAY: Final = 86_400_000
MS_PER_WEEK: Final = 7 * MS_PER_DAY
# 1970-01-01 was a Thursday: weeks start 4 days after (and a multiple of 7 before) it.
_MONDAY: Final = 4 * MS_PER_DAY
_PREFIX: Final = "events_p"
_NAME: Final = re.compile(r"^events_p(\d{4})(\d{2})(\d{2})$")
_NUMBERED: Final = re.compile(r"^events_pday_(m?)(\d+)$")
# Any constant: the key of the advisory lock that serialises partition DDL.
_DDL_LOCK: Final = 0x466F6F7466616C6C  # "Footfall"
_EPOCH_ORDINAL: Final = datetime(1970, 1, 1, tzinfo=UTC).toordinal()
_LAST_ORDINAL: Final = datetime(9999, 12, 31).toordinal()


def week_of(ms: int) -> int:
    """The start (UTC ms, a Monday 00:00) of the UTC week holding `ms`."""
    return ms - (ms - _MONDAY) % MS_PER_WEEK


def partition_name(day: int) -> str:
    """`events_pYYYYMMDD` for the partition starting at `day` (UTC ms, a day's start);
    outside the years 1-9999 (only legacy rows of year 0 or 10000 UTC), `events_pday_N`
    with N days since 1970 (`m` for minus)."""
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


def partition_weeks(conn: Connection) -> dict[int, bool]:
    """Every partition of `events`: its week's start -> whether a detach is pending."""
    rows = conn.execute(
        text(
            "SELECT c.relname, i.inhdetachpending FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass"
        )
    ).all()
    weeks: dict[int, bool] = {}
    for name, pending in rows:
        start = _day_of_name(name)
        if start is not None:
            weeks[start] = bool(pending)
    return weeks


def create_week(conn: Connection, week: int) -> bool:
    """Create and attach the partition of `week` (a `week_of` value) unless it exists;
    True if created.

    Runs in the caller's transaction, which should do nothing else (it holds the DDL
    lock until it ends)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
    if week in partition_weeks(conn):
        return False
    name = partition_name(week)
    # LIKE copies the columns, NOT NULLs and defaults (the id sequence); ATTACH then
    # builds the partition's share of every index of `events` (instant on an empty table).
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # a leftover of a failed attach
    conn.execute(text(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"ALTER TABLE events ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({week}) TO ({week + MS_PER_WEEK})"
        )
    )
    return True


class PartitionSet:
    """The weeks this process knows to have a partition; creates the missing ones."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[int] = set()
        self._lock = threading.Lock()

    def ensure(self, weeks: Iterable[int]) -> int:
        """Make sure every week in `weeks` (`week_of` values) has a partition; returns
        how many this call created. Costs a set lookup when all are known."""
        if self.db.is_sqlite:
            return 0
        missing = set(weeks) - self._known
        if not missing:
            return 0
        with self._lock:
            missing -= self._known
            if not missing:
                return 0
            with self.db.read() as conn:
                known = partition_weeks(conn)
            self._known.update(w for w, pending in known.items() if not pending)
            created = 0
            for week in sorted(missing - self._known):
                with self.db.write() as conn:
                    created += create_week(conn, week)
                self._known.add(week)
            return created

    def forget(self) -> None:
        """Drop the cache (after a retention run, or an insert that found no partition)."""
        with self._lock:
            self._known.clear()


def drop_weeks_before(db: Database, cutoff_ms: int) -> list[int]:
    """Detach and drop every partition wholly before `cutoff_ms`; the weeks dropped.

    DETACH ... CONCURRENTLY cannot run inside a transaction, so each step is its own
    autocommit statement; a crash between them is finished by the next run."""
    if db.is_sqlite:
        return []
    with db.read() as conn:
        weeks = partition_weeks(conn)
    doomed = sorted(week for week in weeks if week + MS_PER_WEEK <= cutoff_ms)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in _detached_leftovers(conn):  # detached by a run that crashed before DROP
            conn.execute(text(f"DROP TABLE {name}"))
        for week in doomed:
            name = partition_name(week)
            if weeks[week]:  # interrupted earlier: the first phase already ran
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
