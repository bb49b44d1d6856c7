"""Ingest tokens: which location a bearer token opens, remembered for a few seconds.

Invariant: a cached location is only a hint for validation (the write transaction
re-reads the config version under the location's lock); a revoked or unknown token is
never cached, and a known one is asked of the database again after `CACHE_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from footfall.services.ingest.results import IngestLocation
from footfall.services.management import hash_token
from footfall.store import locations as location_store
from footfall.store.db import Database

__all__ = ["CACHE_SECONDS", "TokenCache"]

CACHE_SECONDS = 5.0


class TokenCache:
    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock
        self._tokens: dict[str, tuple[float, IngestLocation]] = {}

    def cached_location(self, token: str) -> IngestLocation | None:
        """The token's location if it was authenticated in the last few seconds: the hot
        path then skips a database round trip per batch."""
        hit = self._tokens.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def authenticate(self, token: str) -> IngestLocation | None:
        with self.db.read() as conn:
            row = location_store.find_location_by_token_hash(conn, hash_token(token))
        if row is None:
            return None
        location = IngestLocation(row.id, row.config_version, row.hash)
        self._tokens[token] = (time.monotonic() + CACHE_SECONDS, location)
        return location

    def mark_seen(self, location_id: int) -> None:
        """Every ingest call marks its location seen, refused ones too (docs/api.md)."""
        with self.db.write() as conn:
            location_store.touch(conn, location_id, self.clock())
