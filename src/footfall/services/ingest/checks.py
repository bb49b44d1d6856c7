"""Events batches, decoded and checked against the location's triggers (CPU only while
the triggers are cached).

Invariants:
- Triggers are cached per location with the config version they were read at; a batch
  is checked against that version or a later cached one (versions only grow), and the
  write re-checks the version under the location's lock (`ConfigChanged`).
- A 422 is final only after `recheck`: the cache may hold an older config than the
  location's current one (an agent declared a trigger through another process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from footfall.domain.ingest import BodyError, check_batch, decode_events
from footfall.services.ingest.results import CheckedBatch, DecodedBatch, Rejected
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.locations import TriggerRow

__all__ = ["BatchChecker"]


class BatchChecker:
    def __init__(self, db: Database, clock: Callable[[], int], retention_days: float) -> None:
        self.db = db
        self.clock = clock
        # Events older than this are refused (docs/api.md): none is stored past retention.
        self.retention_days = retention_days
        # location_id -> (config_version, triggers): triggers change rarely, batches often.
        self._triggers: dict[int, tuple[int, dict[str, TriggerRow]]] = {}
        self._lock = threading.Lock()

    def decode(self, location_id: int, body: bytes) -> DecodedBatch:
        """Parse the body (CPU only). Raises Rejected (400/413) when it is unusable."""
        try:
            events, problems = decode_events(body)
        except BodyError as exc:
            raise Rejected(413 if exc.too_large else 400, str(exc)) from None
        return DecodedBatch(location_id, events, problems)

    def triggers_cached(self, location_id: int, version: int) -> bool:
        cached = self._triggers.get(location_id)
        return cached is not None and cached[0] >= version

    def _triggers_at(self, location_id: int, version: int) -> tuple[int, dict[str, TriggerRow]]:
        """The triggers of `version` or of a later config already loaded.

        `version` is a hint (a location cached with its token for a few seconds, older
        than a config the cache has since loaded): a newer cached config is the better
        guess. A batch it accepts is checked again under the location's lock
        (`ConfigChanged`); one it refuses, by `recheck`.
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
        """Validate against the triggers of `version` or a later cached config.

        Raises Rejected (413/422) listing every problem; a 422 is final only after
        `recheck`.
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
            rows, problems, summary = check_batch(
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
        return CheckedBatch(batch.location_id, version, rows, summary)
