"""Checked events batches into the database: one transaction per group of batches.

Invariants:
- A batch is stored in one transaction with everything derived from it, and its future
  resolves only after the commit: an acknowledged event is never lost.
- Idempotent on (location, record_id): duplicates are detected under the location's row
  lock, so concurrent copies of one batch store it exactly once.
- The write re-checks the config version the batch was checked against, under the lock;
  a batch checked against an older one is handed back as `ConfigChanged`.
- Everything written after the events (rollups, zone marks, coverage, revisions) is
  described as upserts and sent together (`store.upserts`: one statement on PostgreSQL).

On SQLite batches go to one writer thread that commits concurrent batches together
(`group_commit`); on PostgreSQL each batch is its own transaction in a pool, and the
weeks its events fall in get their partitions first, outside the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter

from sqlalchemy import Connection

from footfall.domain.ingest import EventRow
from footfall.domain.times import MS_PER_HOUR
from footfall.services import coverage, revisions, webhooks
from footfall.services.group_commit import GroupCommitWriter
from footfall.services.ingest.results import BatchResult, CheckedBatch, ConfigChanged
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store import upserts
from footfall.store import webhooks as webhook_store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.events import RollupKey
from footfall.store.partitions import PartitionSet, week_of
from footfall.store.webhooks import EndpointRow

__all__ = ["BatchWriter"]

_EVENT_TIME = itemgetter(11)
_RECORD_ID = itemgetter(1)


class BatchWriter:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], int],
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        # Told after a commit that queued webhook deliveries, so the dispatcher looks at once.
        self.on_commit = on_commit
        self._hooks: dict[int, tuple[int, list[EndpointRow]]] = {}
        self._writer: GroupCommitWriter[CheckedBatch, BatchResult] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._partitions = PartitionSet(db)
        if db.is_sqlite:
            self._writer = GroupCommitWriter(self.store_batches)
        else:
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="footfall-ingest")

    def close(self) -> None:
        """Finish every submitted batch, then stop the writer threads."""
        if self._writer is not None:
            self._writer.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, batch: CheckedBatch) -> Future[BatchResult]:
        """Queue a checked batch for storage; the future resolves after the commit.

        It fails with ConfigChanged when the location's config changed since the check.
        """
        if self._writer is not None:
            return self._writer.submit(batch)
        assert self._pool is not None
        return self._pool.submit(self._store_one, batch)

    def _store_one(self, batch: CheckedBatch) -> BatchResult:
        outcome = self.store_batches([batch])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def store_batches(self, batches: Sequence[CheckedBatch]) -> list[BatchResult | Exception]:
        """Store checked batches in one transaction; each outcome is its result or the
        ConfigChanged that kept it out (the others are stored regardless)."""
        if self.db.is_sqlite:
            outcomes, queued = self._store_together(batches)
        else:
            weeks = set().union(*(_weeks_holding(batch.rows) for batch in batches))
            self._partitions.ensure(weeks)
            try:
                outcomes, queued = self._store_together(batches)
            except event_store.MissingPartition:
                # Another process dropped a week this one still knew (a retention run
                # racing a batch at the cutoff): learn the partitions afresh, store again.
                self._partitions.forget()
                self._partitions.ensure(weeks)
                outcomes, queued = self._store_together(batches)
        if queued and self.on_commit is not None:
            self.on_commit()
        return outcomes

    def _store_together(
        self, batches: Sequence[CheckedBatch]
    ) -> tuple[list[BatchResult | Exception], int]:
        """The outcomes, and how many webhook deliveries the transaction queued."""
        outcomes: list[BatchResult | Exception] = []
        queued = 0
        with self.db.write() as conn:
            for batch in batches:
                try:
                    result, deliveries = self._store(conn, batch)
                except ConfigChanged as changed:
                    outcomes.append(changed)
                else:
                    outcomes.append(result)
                    queued += deliveries
        return outcomes, queued

    def _store(self, conn: Connection, batch: CheckedBatch) -> tuple[BatchResult, int]:
        locked = location_store.lock_and_touch(conn, batch.location_id, self.clock())
        if locked.config_version != batch.config_version:
            raise ConfigChanged(locked.config_version)
        rows = batch.rows
        unique = rows if len(set(map(_RECORD_ID, rows))) == len(rows) else _first_of_each(rows)
        new_rows = event_store.insert_new_events(conn, batch.location_id, unique)
        # The check's summary holds for the rows stored when they are all of the batch's.
        summary = batch.summary if new_rows is rows else None
        by_quarter = event_store.rollup_counts(new_rows, event_store.MS_PER_QUARTER, summary)
        zone_marks, loitering_only = zone_store.zone_events(batch.location_id, new_rows)
        upserts.run(
            conn,
            event_store.rollups(
                batch.location_id, by_quarter, table="quarter_rollups", bucket="quarter"
            ),
            event_store.rollups(batch.location_id, event_store.coarser(by_quarter, MS_PER_HOUR)),
            zone_marks,
            # The batch is a heartbeat for its channels (docs/api.md, Coverage): resent
            # events too, as they prove the same as the first time.
            coverage.folded_marks(conn, batch.location_id, coverage.event_marks(batch.rows)),
            # New events for hours already final revise their totals (docs/api.md, Revisions).
            revisions.late_event_marks(
                batch.location_id, locked.timezone, new_rows, self.clock(), summary
            ),
        )
        zone_store.mark_loitering(conn, batch.location_id, loitering_only)
        queued = webhooks.queue_event_deliveries(
            conn,
            batch.location_id,
            new_rows,
            self.clock(),
            self._endpoints(conn, batch.location_id, locked.webhooks_version),
        )
        return BatchResult(
            accepted=len(new_rows),
            duplicates=len(rows) - len(new_rows),
            stored_by_type=_count_by_type(by_quarter),
        ), queued

    def _endpoints(self, conn: Connection, location_id: int, version: int) -> list[EndpointRow]:
        """The location's events endpoints, cached per webhooks version (read under the
        location's lock, so a change is seen by the very next batch, in any process)."""
        cached = self._hooks.get(location_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        endpoints = webhook_store.endpoints_of(conn, location_id, "events")
        self._hooks[location_id] = (version, endpoints)
        return endpoints


def _first_of_each(rows: Sequence[EventRow]) -> list[EventRow]:
    """The rows without repeats of a record id within the batch (the first one counts)."""
    first_by_record: dict[int, EventRow] = {}
    for row in rows:
        first_by_record.setdefault(row[1], row)
    return list(first_by_record.values())


def _weeks_holding(rows: Sequence[EventRow]) -> set[int]:
    """The UTC weeks (store/partitions.py) of the rows' event times: the usual batch lies
    in one, found from its first and last events."""
    if not rows:
        return set()
    first, last = week_of(min(map(_EVENT_TIME, rows))), week_of(max(map(_EVENT_TIME, rows)))
    if first == last:
        return {first}
    return {week_of(row[11]) for row in rows}


def _count_by_type(counts: Counter[RollupKey]) -> tuple[tuple[str, int], ...]:
    """Stored events per type, from the batch's rollup counts (a few keys, not every event)."""
    by_type: Counter[str] = Counter()
    for (_start, _channel, _trigger, event_type, _origin), count in counts.items():
        by_type[event_type] += count
    return tuple(by_type.items())
