"""The ingest use cases (docs/api.md, Ingest API): an agent declares its config, pushes
event batches and heartbeats.

Invariants:
- A batch is atomic: validated completely before its transaction, stored in one
  transaction with its rollups, acknowledged only after the commit (`writer`).
- Idempotent on (location, record_id): a stored event never changes; resent or repeated
  events are counted as duplicates, detected under the location's row lock.
- Validation runs outside any transaction, against the triggers of a known config version
  (`checks`); the write re-checks that version under the lock (`ConfigChanged` asks the
  caller to validate again if an agent changed its config in between).

`Ingest` puts the rooms together, each with one job: `tokens` (which location a token
opens), `checks` (decode and validate a batch against cached triggers), `writer` (store
batches: group commit on SQLite, a pool and partitions on PostgreSQL, webhook endpoints),
`heartbeats` and `config`. A batch goes through three steps — `decode`, `check`,
`submit` — so the HTTP layer can run the CPU-bound ones where they cost least;
`post_events` chains them for other callers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import msgspec

from footfall.config import DEFAULT_RETENTION_DAYS
from footfall.domain.agent_config import ConfigLimits
from footfall.domain.times import now_ms
from footfall.services.errors import NotFoundError
from footfall.services.ingest.checks import BatchChecker
from footfall.services.ingest.config import declare_config
from footfall.services.ingest.heartbeats import record_heartbeats
from footfall.services.ingest.results import (
    BatchResult,
    CheckedBatch,
    ConfigChanged,
    ConfigResult,
    DecodedBatch,
    HeartbeatResult,
    IngestLocation,
    Located,
    Rejected,
)
from footfall.services.ingest.tokens import TokenCache
from footfall.services.ingest.writer import BatchWriter
from footfall.store import locations as location_store
from footfall.store.db import Database

__all__ = [
    "BatchResult",
    "CheckedBatch",
    "ConfigChanged",
    "ConfigLimits",
    "ConfigResult",
    "DecodedBatch",
    "HeartbeatResult",
    "Ingest",
    "IngestLocation",
    "Located",
    "Rejected",
    "ingest_locally",
]


class Ingest:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], int] = now_ms,
        *,
        on_commit: Callable[[], None] | None = None,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        limits: ConfigLimits | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.retention_days = retention_days
        self.limits = ConfigLimits() if limits is None else limits
        self._tokens = TokenCache(db, clock)
        self._checker = BatchChecker(db, clock, retention_days)
        self._writer = BatchWriter(db, clock, on_commit)
        # The hot path's steps, bound once (one attribute lookup less per batch).
        self.cached_location = self._tokens.cached_location
        self.authenticate = self._tokens.authenticate
        self.mark_seen = self._tokens.mark_seen
        self.triggers_cached = self._checker.triggers_cached
        self.check = self._checker.check
        self.recheck = self._checker.recheck
        self.submit: Callable[[CheckedBatch], Future[BatchResult]] = self._writer.submit

    def close(self) -> None:
        """Finish every submitted batch, then stop the writer threads."""
        self._writer.close()

    def decode(self, location: Located, body: bytes) -> DecodedBatch:
        """Parse the body (CPU only). Raises Rejected (400/413) when it is unusable."""
        return self._checker.decode(location.id, body)

    def store_batches(self, batches: Sequence[CheckedBatch]) -> list[BatchResult | Exception]:
        """Store checked batches in one transaction (see `writer.BatchWriter`)."""
        return self._writer.store_batches(batches)

    def post_events(self, location: Located, body: bytes) -> BatchResult:
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

    def post_heartbeat(self, location: Located, body: bytes) -> HeartbeatResult:
        """Fold a heartbeat body into the channels' coverage (see `heartbeats`)."""
        return record_heartbeats(
            self.db,
            location.id,
            body,
            now=self.clock(),
            retention_days=self.retention_days,
            mark_seen=self.mark_seen,
        )

    def put_config(self, location: Located, body: bytes) -> ConfigResult:
        """Apply an agent's declaration within the limits (see `config`)."""
        return declare_config(
            self.db,
            location.id,
            body,
            now=self.clock(),
            retention_days=self.retention_days,
            limits=self.limits,
            mark_seen=self.mark_seen,
        )


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

    def location() -> Located:
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
