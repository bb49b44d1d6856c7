"""The ingest use cases (SPEC §3): an agent declares its config and pushes event batches.

Invariants:
- A batch is atomic: validated completely before its transaction, stored in one
  transaction with its rollups, acknowledged only after the commit.
- Idempotent on (location, record_id): a stored event never changes; resent or repeated
  events are counted as duplicates. Duplicates are detected under the location's row lock,
  so four concurrent copies of one batch store it exactly once.
- Validation runs outside any transaction, against the triggers of a known config version;
  the write re-checks that version under the lock (`ConfigChanged` asks the caller to
  validate again if an agent changed its config in between).
- The batch's transaction also records (issue 17) the coverage it proves (a heartbeat
  for each channel it carries) and the totals hours its new events revise; a heartbeat
  request folds its marks under the same location lock. Everything written after the
  events (rollups, zone marks, coverage, revisions) is described as upserts and sent
  together (`store.upserts`: one statement on PostgreSQL).

A batch goes through three steps — `decode`, `check`, `submit` — so the HTTP layer can
run the CPU-bound ones where they cost least; `post_events` chains them for other callers.
On SQLite `submit` hands batches to one writer thread that commits concurrent batches
together (`group_commit`); on PostgreSQL each batch is its own transaction in a pool.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import Connection

from footfall.config import DEFAULT_RETENTION_DAYS
from footfall.domain.agent_config import ConfigBodyError, ConfigProblem, decode_config
from footfall.domain.coverage import add_mark
from footfall.domain.heartbeats import check_heartbeats
from footfall.domain.histogram import hour_start
from footfall.domain.ingest import (
    MS_PER_DAY,
    BodyError,
    EventIn,
    EventRow,
    Problem,
    check_events,
    decode_events,
)
from footfall.domain.times import MS_PER_HOUR, now_ms, parse_zone
from footfall.services import coverage, revisions, webhooks
from footfall.services.errors import NotFoundError
from footfall.services.group_commit import GroupCommitWriter
from footfall.services.management import hash_token
from footfall.store import coverage as coverage_store
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store import upserts
from footfall.store import webhooks as webhook_store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.events import RollupKey
from footfall.store.locations import ChannelSpec, LocationRow, TriggerRow, TriggerSpec
from footfall.store.partitions import PartitionSet, week_of
from footfall.store.webhooks import EndpointRow

__all__ = [
    "BatchResult",
    "CheckedBatch",
    "ConfigChanged",
    "ConfigResult",
    "DecodedBatch",
    "HeartbeatResult",
    "Ingest",
    "Rejected",
    "ingest_locally",
]

_TOKEN_CACHE_SECONDS = 5.0
_EVENT_TIME = itemgetter(11)
_RECORD_ID = itemgetter(1)


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    # (event_type, count) of the events newly stored, for the metrics
    stored_by_type: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class HeartbeatResult:
    accepted: int


@dataclass(frozen=True)
class ConfigResult:
    location_id: int
    timezone: str
    channels: int
    triggers: int


@dataclass(frozen=True)
class DecodedBatch:
    location_id: int
    events: list[EventIn | None]
    problems: list[Problem]


@dataclass(frozen=True)
class CheckedBatch:
    location_id: int
    config_version: int
    rows: list[EventRow]


class Rejected(Exception):
    """A request the API answers with a 4xx: `status`, a message, and the problems."""

    def __init__(
        self,
        status: int,
        message: str,
        problems: list[Problem] | list[ConfigProblem] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


class ConfigChanged(Exception):
    """The location's config changed between validation and the write lock."""

    def __init__(self, version: int) -> None:
        super().__init__(f"config is now version {version}")
        self.version = version


class Ingest:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], int] = now_ms,
        *,
        on_commit: Callable[[], None] | None = None,
        retention_days: float = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self.db = db
        self.clock = clock
        # Events older than this are refused (SPEC §3): none is ever stored past retention.
        self.retention_days = retention_days
        # Told after a commit that queued webhook deliveries, so the dispatcher looks at once.
        self.on_commit = on_commit
        # location_id -> (config_version, triggers): triggers change rarely, batches often.
        self._triggers: dict[int, tuple[int, dict[str, TriggerRow]]] = {}
        self._tokens: dict[str, tuple[float, LocationRow]] = {}
        self._hooks: dict[int, tuple[int, list[EndpointRow]]] = {}
        self._lock = threading.Lock()
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

    # -- authentication ------------------------------------------------------------------

    def cached_location(self, token: str) -> LocationRow | None:
        """The token's location if it was authenticated in the last few seconds.

        Lets the hot path skip a database round trip per batch; the cached row is only a
        hint for validation (the write transaction re-reads the config version).
        """
        hit = self._tokens.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def authenticate(self, token: str) -> LocationRow | None:
        with self.db.read() as conn:
            location = location_store.find_location_by_token_hash(conn, hash_token(token))
        if location is not None:
            self._tokens[token] = (time.monotonic() + _TOKEN_CACHE_SECONDS, location)
        return location

    def mark_seen(self, location_id: int) -> None:
        with self.db.write() as conn:
            location_store.touch(conn, location_id, self.clock())

    # -- events --------------------------------------------------------------------------

    def decode(self, location: LocationRow, body: bytes) -> DecodedBatch:
        """Parse the body (CPU only). Raises Rejected (400/413) when it is unusable."""
        try:
            events, problems = decode_events(body)
        except BodyError as exc:
            raise Rejected(413 if exc.too_large else 400, str(exc)) from None
        return DecodedBatch(location.id, events, problems)

    def triggers_cached(self, location_id: int, version: int) -> bool:
        cached = self._triggers.get(location_id)
        return cached is not None and cached[0] >= version

    def _triggers_at(self, location_id: int, version: int) -> tuple[int, dict[str, TriggerRow]]:
        """The triggers of `version` or of a later config already loaded.

        Versions only grow, and `version` is a hint (a location row cached with its token
        for a few seconds, older than a config the cache has since loaded): a newer cached
        config is the better guess. A batch it accepts is checked again under the
        location's lock (`ConfigChanged`); one it refuses, by `recheck`.
        """
        cached = self._triggers.get(location_id)
        if cached is not None and cached[0] >= version:
            return cached
        return self._load_triggers(location_id, version)

    def _load_triggers(self, location_id: int, version: int) -> tuple[int, dict[str, TriggerRow]]:
        with self.db.read() as conn:
            current = location_store.get_location(conn, location_id)
            triggers = location_store.load_triggers(conn, location_id)
        loaded = (current.config_version if current else version, triggers)
        with self._lock:
            self._triggers[location_id] = loaded
        return loaded

    def check(self, batch: DecodedBatch, version: int) -> CheckedBatch:
        """Validate against the triggers of `version` or a later cached config (CPU only
        when they are cached).

        Raises Rejected (413/422) listing every problem; a 422 is final only after
        `recheck` (the cached config may be older than the location's current one).
        """
        return self._check_against(batch, *self._triggers_at(batch.location_id, version))

    def recheck(self, batch: DecodedBatch, version: int) -> CheckedBatch:
        """`check` again a batch it refused, against the location's current config: an
        agent (through another request, or another process) may have declared the
        triggers it uses since the cache loaded its config. Refusals are rare; this costs
        them one read."""
        return self._check_against(batch, *self._load_triggers(batch.location_id, version))

    def _check_against(
        self, batch: DecodedBatch, version: int, triggers: dict[str, TriggerRow]
    ) -> CheckedBatch:
        try:
            rows, problems = check_events(
                batch.location_id,
                batch.events,
                triggers,
                self.clock(),
                batch.problems,
                retention_days=self.retention_days,
            )
        except BodyError as exc:
            raise Rejected(413, str(exc)) from None
        if problems:
            raise Rejected(
                422, f"{len(problems)} problem(s) in the batch; nothing was stored", problems
            )
        return CheckedBatch(batch.location_id, version, rows)

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
        ConfigChanged that kept it out (the others are stored regardless).

        On PostgreSQL the weeks the events fall in get their partitions first, outside the
        transaction (store/partitions.py)."""
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
        by_quarter = event_store.rollup_counts(new_rows, event_store.MS_PER_QUARTER)
        upserts.run(
            conn,
            event_store.rollups(
                batch.location_id, by_quarter, table="quarter_rollups", bucket="quarter"
            ),
            event_store.rollups(batch.location_id, event_store.coarser(by_quarter, MS_PER_HOUR)),
            zone_store.zone_events(batch.location_id, new_rows),
            # The batch is a heartbeat for its channels (issue 17): resent events too, as
            # they prove the same as the first time (folding a mark again changes nothing).
            coverage.folded_marks(conn, batch.location_id, coverage.event_marks(batch.rows)),
            # New events for hours already final revise their totals (issue 17).
            revisions.late_event_marks(batch.location_id, locked.timezone, new_rows, self.clock()),
        )
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

    def post_events(self, location: LocationRow, body: bytes) -> BatchResult:
        """Decode, check and store one batch, marking the location seen in every case."""
        try:
            decoded = self.decode(location, body)
            version = location.config_version
            while True:
                try:
                    checked = self.check(decoded, version)
                except Rejected as refused:
                    if refused.status != 422:
                        raise
                    checked = self.recheck(decoded, version)
                try:
                    return self.submit(checked).result()
                except ConfigChanged as changed:
                    version = changed.version
        except Rejected:
            self.mark_seen(location.id)
            raise

    # -- heartbeats (issue 17) -------------------------------------------------------------

    def post_heartbeat(self, location: LocationRow, body: bytes) -> HeartbeatResult:
        """Validate a heartbeat body and fold its marks into the channels' coverage, in one
        transaction under the location's lock (which also marks the location seen)."""
        now = self.clock()
        try:
            with self.db.read() as conn:
                known = coverage_store.declared_channels(conn, location.id)
            beats, problems = check_heartbeats(body, known, now, retention_days=self.retention_days)
        except BodyError as exc:
            self.mark_seen(location.id)
            raise Rejected(413 if exc.too_large else 400, str(exc)) from None
        if problems:
            self.mark_seen(location.id)
            raise Rejected(
                422, f"{len(problems)} problem(s) in the heartbeats; nothing was stored", problems
            )
        marks: dict[str, dict[int, bool]] = {}
        for beat in beats:
            add_mark(marks.setdefault(beat.channel_id, {}), beat.at_ms // 1000, beat.ok)
        with self.db.write() as conn:
            location_store.lock_and_touch(conn, location.id, now)
            upserts.run(conn, coverage.folded_marks(conn, location.id, marks))
        return HeartbeatResult(len(beats))

    # -- config --------------------------------------------------------------------------

    def put_config(self, location: LocationRow, body: bytes) -> ConfigResult:
        try:
            config, problems = decode_config(body)
        except ConfigBodyError as exc:
            self.mark_seen(location.id)
            raise Rejected(400, str(exc)) from None
        if config is None:
            self.mark_seen(location.id)
            raise Rejected(
                422, f"{len(problems)} problem(s) in the config; nothing was changed", problems
            )
        specs = [
            ChannelSpec(
                id=c.id,
                name=c.name if c.name is not None else c.id,
                paid=c.paid,
                triggers=[
                    TriggerSpec(t.id, t.name if t.name is not None else t.id, t.type)
                    for t in c.triggers
                ],
            )
            for c in config.channels
        ]
        now = self.clock()
        with self.db.write() as conn:
            before = location_store.get_location(conn, location.id)
            zone, channel_count, trigger_count = location_store.upsert_config(
                conn,
                location_id=location.id,
                version=config.version,
                timezone=config.timezone,
                channel_specs=specs,
                now=now,
            )
            if before is not None and before.timezone != zone:
                # Local hours moved: recompute the histograms from the oldest raw event
                # kept, at a boundary of the new zone, so no two hours of a trigger overlap.
                oldest = now - int(self.retention_days * MS_PER_DAY)
                zone_store.restart_for_new_zone(
                    conn, location.id, hour_start(parse_zone(zone), oldest)
                )
        return ConfigResult(location.id, zone, channel_count, trigger_count)


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


def ingest_locally(
    db: Database,
    location_id: int,
    batches: Iterable[list[dict[str, Any]]],
    *,
    config: dict[str, Any] | None = None,
    clock: Callable[[], int] = now_ms,
    retention_days: float = DEFAULT_RETENTION_DAYS,
) -> list[BatchResult]:
    """What an agent does over HTTP, in process (demo, benchmarks, tests): declare `config`
    when given, then store each batch with every rule of the ingest API."""
    ingest = Ingest(db, clock, retention_days=retention_days)

    def location() -> LocationRow:
        with db.read() as conn:
            found = location_store.get_location(conn, location_id)
        if found is None:
            raise NotFoundError(f"no location {location_id}")
        return found

    try:
        if config is not None:
            ingest.put_config(location(), msgspec.json.encode(config))
        current = location()
        return [ingest.post_events(current, msgspec.json.encode(b)) for b in batches if b]
    finally:
        ingest.close()


def _count_by_type(counts: Counter[RollupKey]) -> tuple[tuple[str, int], ...]:
    """Stored events per type, from the batch's rollup counts (a few keys, not every event)."""
    by_type: Counter[str] = Counter()
    for (_start, _channel, _trigger, event_type, _origin), count in counts.items():
        by_type[event_type] += count
    return tuple(by_type.items())
