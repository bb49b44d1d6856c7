"""`POST /ingest/v1/heartbeat`: each channel's liveness folded into its coverage.

Invariant: a heartbeat request is atomic (any problem and nothing is stored) and its
marks are folded in one transaction under the location's lock, which also marks the
location seen (docs/api.md, Coverage).
"""

from __future__ import annotations

from collections.abc import Callable

from footfall.domain.coverage import add_mark
from footfall.domain.heartbeats import check_heartbeats
from footfall.domain.ingest import BodyError
from footfall.services import coverage
from footfall.services.ingest.results import HeartbeatResult, Rejected
from footfall.store import coverage as coverage_store
from footfall.store import locations as location_store
from footfall.store import upserts
from footfall.store.db import Database

__all__ = ["record_heartbeats"]


def record_heartbeats(
    db: Database,
    location_id: int,
    body: bytes,
    *,
    now: int,
    retention_days: float,
    mark_seen: Callable[[int], None],
) -> HeartbeatResult:
    """Validate a heartbeat body and fold its marks into the channels' coverage. A
    refused body still marks the location seen (`mark_seen`)."""
    try:
        with db.read() as conn:
            known = coverage_store.declared_channels(conn, location_id)
        beats, problems = check_heartbeats(body, known, now, retention_days=retention_days)
    except BodyError as exc:
        mark_seen(location_id)
        raise Rejected(413 if exc.too_large else 400, str(exc)) from None
    if problems:
        mark_seen(location_id)
        raise Rejected(
            422, f"{len(problems)} problem(s) in the heartbeats; nothing was stored", problems
        )
    marks: dict[str, dict[int, bool]] = {}
    for beat in beats:
        add_mark(marks.setdefault(beat.channel_id, {}), beat.at_ms // 1000, beat.ok)
    with db.write() as conn:
        location_store.lock_and_touch(conn, location_id, now)
        upserts.run(conn, coverage.folded_marks(conn, location_id, marks))
    return HeartbeatResult(len(beats))
