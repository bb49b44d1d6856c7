"""Channels and triggers no longer declared, purged with the data derived from them.

What goes (docs/operations.md, Limits): an inactive trigger's raw events, rollups,
histograms, zone statistics and revision marks; an inactive channel's coverage and the
rollups, histograms and revision marks recorded under it; then the rows themselves.
What stays: whatever an operator defined on them. A trigger named by an occupancy
counter, a queue or a live feed, or a channel named by a webhook endpoint (or still
holding a kept trigger), is kept with its data until that definition is deleted: a
purge never changes what an operator set up.

Invariants:
- The retention job purges what has been inactive for longer than the retention period
  (by then no event for it can be accepted any more: ingest refuses older ones);
  `footfall locations prune` purges every inactive one at once.
- Bounded work: `chunk` ids per transaction, each under the location's row lock with the
  ids re-read there (a config that declared one again in between keeps it), and the
  config version moved on so no ingest process stores a batch against a purged trigger.
  A crash loses at most the chunk in flight; a second copy running at once finds nothing
  left to do in the chunks the first has taken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from footfall.domain.times import now_ms
from footfall.services.errors import NotFoundError
from footfall.store import feeds as feed_store
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store import undeclared as store
from footfall.store import webhooks as webhook_store
from footfall.store.db import Database
from footfall.store.schema import channels, triggers

__all__ = ["PruneResult", "prune_location", "purge_undeclared"]

log = logging.getLogger("footfall.retention")
_MS_PER_DAY = 86_400_000
CHUNK = 200  # ids per transaction: a short lock, a statement of at most this many


@dataclass
class PruneResult:
    """What a prune removed from one location, and what it kept and why."""

    location_id: int
    channels: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    derived_rows: int = 0
    kept: list[dict[str, str]] = field(default_factory=list)


def _references(conn: Connection, location_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """(trigger id -> why kept, channel id -> why kept): what operators defined on them."""
    kept_triggers: dict[str, str] = {}
    for counter in occupancy_store.list_counters(conn, [location_id]):
        named = (*counter.enter_triggers, *counter.exit_triggers, counter.zone_trigger)
        for trigger in named:
            if trigger:
                kept_triggers.setdefault(trigger, f"occupancy counter {counter.id}")
    for queue in occupancy_store.list_queues(conn, [location_id]):
        kept_triggers.setdefault(queue.zone_trigger, f"queue {queue.id}")
    for feed in feed_store.list_feeds(conn, location_id):
        if feed.revoked_at is None:
            for trigger in feed.triggers:
                kept_triggers.setdefault(trigger, f"feed {feed.id}")
    kept_channels = {
        endpoint.channel_id: f"webhook endpoint {endpoint.id}"
        for endpoint in webhook_store.list_endpoints(conn, location_id)
        if endpoint.channel_id is not None
    }
    return kept_triggers, kept_channels


def prune_location(
    db: Database,
    location_id: int,
    *,
    before: int | None = None,
    chunk: int = CHUNK,
) -> PruneResult:
    """Purge the location's channels and triggers inactive since before `before` (every
    inactive one when None), with their derived data. NotFoundError: no such location."""
    result = PruneResult(location_id)
    with db.read() as conn:
        if location_store.get_location(conn, location_id) is None:
            raise NotFoundError(f"no location {location_id}: see `footfall locations list`")
        if not any(store.undeclared(conn, t, location_id, before, 1) for t in (triggers, channels)):
            return result  # the usual case: nothing undeclared, nothing more to read
        kept_triggers, kept_channels = _references(conn, location_id)
    _purge(db, location_id, before, chunk, kept_triggers, result, kind="trigger")
    _purge(db, location_id, before, chunk, kept_channels, result, kind="channel")
    with db.read() as conn:  # report only what is still undeclared (and why it stays)
        for table, kind, kept in (
            (triggers, "trigger", kept_triggers),
            (channels, "channel", kept_channels),
        ):
            for row_id in store.inactive_among(conn, table, location_id, sorted(kept)):
                result.kept.append({"kind": kind, "id": row_id, "reason": kept[row_id]})
    return result


def _purge(
    db: Database,
    location_id: int,
    before: int | None,
    chunk: int,
    kept: dict[str, str],
    result: PruneResult,
    *,
    kind: str,
) -> None:
    """Purge undeclared triggers (or channels), `chunk` at a time, each chunk in its own
    transaction under the location's lock (taken only when there is something to purge)."""
    table = triggers if kind == "trigger" else channels

    def doomed(conn: Connection) -> list[str]:
        spared = set(kept)
        if kind == "channel":  # a channel some kept trigger still belongs to stays
            for channel in store.trigger_channels(conn, location_id):
                kept.setdefault(channel, "a kept trigger belongs to it")
            spared = set(kept)
        ids = store.undeclared(conn, table, location_id, before, chunk + len(spared))
        return [i for i in ids if i not in spared][:chunk]

    while True:
        with db.read() as conn:
            if not doomed(conn):
                return
        with db.write() as conn:
            if not store.lock_config(conn, location_id):
                return
            ids = doomed(conn)  # again under the lock: a config may have declared one
            if kind == "trigger":
                result.derived_rows += store.delete_triggers(conn, location_id, ids)
                result.triggers.extend(ids)
            else:
                result.derived_rows += store.delete_channels(conn, location_id, ids)
                result.channels.extend(ids)


def purge_undeclared(
    db: Database, retention_days: float, *, clock: Callable[[], int] = now_ms
) -> int:
    """The retention job's part: every location's channels and triggers inactive for
    longer than the retention period; how many went. A location that fails is logged and
    left for the next run, never a reason to skip the others."""
    before = clock() - int(retention_days * _MS_PER_DAY)
    with db.read() as conn:
        location_ids = location_store.location_ids(conn)
    purged = 0
    for location_id in location_ids:
        try:
            done = prune_location(db, location_id, before=before)
        except NotFoundError:
            continue  # deleted meanwhile
        except Exception:
            log.exception("purging undeclared channels of location %s failed", location_id)
            continue
        purged += len(done.channels) + len(done.triggers)
    return purged
