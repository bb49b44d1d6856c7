"""Revisions: hours that changed after they were served complete, and the
`revisions` webhook that says so, so a BI tool refreshes only what changed.

What is a revision:
- `totals`: a trigger's local hour [h, h_end) is final `FINAL_AFTER_MS` after it ends
  (room for an agent's usual delivery delay); events stored for it after that revise it.
  Marked in the ingest transaction that stores them (`late_event_marks`), so a revision
  is never lost and never claimed for events that were not stored.
- `histogram`: a stored histogram whose `counting_data` or `lifetime_data` changed when
  the histogram job recomputed it (`mark_histograms`, in the job's write). A histogram
  recomputed to the same figures is not revised (and keeps its `computed_at`).

`updated_since` (read API) returns the histograms computed at or after it, and the totals
items whose figure over [since, until) may have changed at or after it: those of an hour
revised then, or holding events in an hour not yet final then. So it never misses a
change; for ranges of final hours it is exactly the revised ones.

Announcements (`notify`, a background job): a pending revision is announced once it has
been quiet for `SETTLE_MS`, or `MAX_DELAY_MS` after it first became pending (a backlog
streaming in for one hour is one delivery, a steady trickle one per 5 minutes), with the
latest `revised_at`: one delivery per (trigger, kind, hour) per burst and endpoint. A
pass takes at most `limit` marks, an equal share from each location with due marks
(the longest waiting first), so a location with thousands delays the others by one
pass. The pick locks the marks (PostgreSQL `FOR UPDATE SKIP LOCKED`: a second process skips them),
the deliveries and the cleared mark commit together (a crash mid-run leaves it pending,
never doubled), and a mark that fails (a poisoned row) is logged and retried after
`RETRY_MS` in a savepoint of its own while the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import tzinfo
from operator import itemgetter
from typing import Final

import msgspec
from sqlalchemy import Connection

from footfall.domain.histogram import hour_start, local_hours
from footfall.domain.ingest import BatchSummary, EventRow
from footfall.domain.times import format_local, format_local_seconds, now_ms, parse_zone
from footfall.domain.webhooks import new_webhook_id
from footfall.store import locations as location_store
from footfall.store import revisions as store
from footfall.store import webhooks as webhook_store
from footfall.store.db import Database
from footfall.store.histogram_rows import HistogramRow
from footfall.store.revisions import Revision
from footfall.store.upserts import Upsert
from footfall.store.webhooks import EndpointRow

__all__ = [
    "FINAL_AFTER_MS",
    "KINDS",
    "MAX_DELAY_MS",
    "RETRY_MS",
    "SETTLE_MS",
    "late_event_marks",
    "mark_histograms",
    "notify",
    "payload",
]

log = logging.getLogger("footfall.revisions")

KINDS: Final = ("totals", "histogram")
FINAL_AFTER_MS: Final = 60_000
SETTLE_MS: Final = 30_000
MAX_DELAY_MS: Final = 300_000
RETRY_MS: Final = 60_000
_MS_PER_QUARTER: Final = 900_000
_ENCODER: Final = msgspec.json.Encoder()


def late_event_marks(
    location_id: int,
    timezone: str,
    rows: Sequence[EventRow],
    now: int,
    summary: BatchSummary | None = None,
) -> Upsert:
    """For the ingest transaction: the marks of the totals hours these newly stored
    events revise (`timezone`: the location's, read under its lock), to send with
    `upserts.run`; `summary`, when given, must be that of `rows`.

    Costs one comparison on the usual batch (events of the last minute); a late one
    groups its events by quarter-hour first (read off the summary when the batch lies in
    one quarter-hour) and finds each quarter's local hour once.
    """
    none = store.marks_upsert(location_id, "totals", [], now)
    if not rows:
        return none
    oldest = summary.first_ms if summary is not None else min(map(itemgetter(11), rows))
    if oldest >= now - FINAL_AFTER_MS:
        return none  # hour_start(x) <= x: nothing can be in a final hour
    zone = parse_zone(timezone)
    final_before = hour_start(zone, now - FINAL_AFTER_MS)
    if oldest >= final_before:
        return none
    first_quarter = oldest - oldest % _MS_PER_QUARTER
    if (
        summary is not None
        and summary.last_ms < final_before
        and summary.last_ms - summary.last_ms % _MS_PER_QUARTER == first_quarter
    ):
        quarters = {(t, c, first_quarter) for t, c, *_ in summary.attributes}
    else:
        quarters = {
            (row[3], row[4], row[11] - row[11] % _MS_PER_QUARTER)
            for row in rows
            if row[11] < final_before
        }
    found: dict[int, tuple[int, int]] = {}

    def hour_of(instant: int) -> tuple[int, int]:
        # Only the hours the batch touches: a backlog from years ago is a few lookups,
        # not every hour since.
        start = hour_start(zone, instant)
        if start not in found:
            found[start] = local_hours(zone, start, start + 1)[0]
        return found[start]

    marks: set[store.Mark] = set()
    for trigger, channel, quarter in quarters:
        first = hour_of(quarter)
        if first == hour_of(min(quarter + _MS_PER_QUARTER, final_before) - 1):
            marks.add((trigger, channel, *first))
            continue
        # The quarter straddles a local hour (an offset that is no whole quarter-hour).
        for row in rows:
            t = row[11]
            if row[3] == trigger and quarter <= t < quarter + _MS_PER_QUARTER and t < final_before:
                marks.add((trigger, channel, *hour_of(t)))
    return store.marks_upsert(location_id, "totals", sorted(marks), now)


def mark_histograms(
    conn: Connection, location_id: int, changed: Sequence[HistogramRow], now: int
) -> None:
    """In the histogram job's write: these stored hours got new figures."""
    store.mark(
        conn,
        location_id,
        "histogram",
        [(r.trigger_id, r.channel_id, r.hour_start, r.hour_end) for r in changed],
        now,
    )


def payload(item: Revision, zone: tzinfo) -> dict[str, object]:
    """The body of a `revisions` delivery: `hour` like `histogram_time` and `revised_at`
    like `time`, both usable as they are as `since` and `updated_since`."""
    return {
        "location_id": item.location_id,
        "trigger_id": item.trigger_id,
        "hour": format_local_seconds(item.hour, zone),
        "kind": item.kind,
        "revised_at": format_local(item.revised_at, zone),
    }


def notify(
    db: Database,
    *,
    clock: Callable[[], int] = now_ms,
    settle_ms: int = SETTLE_MS,
    max_delay_ms: int = MAX_DELAY_MS,
    limit: int = 500,
) -> int:
    """One pass: announce the revisions that are due; returns the deliveries created."""
    now = clock()
    with db.read() as conn:  # a look first: most passes find nothing, and write nothing
        if not store.due(conn, now, settle_ms=settle_ms, max_delay_ms=max_delay_ms, limit=1):
            return 0
    created = 0
    with db.write() as conn:
        # Locations in turn: each due location gets an equal share of the pass, so one
        # with thousands of revised hours delays another's announcements by one pass.
        items = _fair_pick(conn, now, settle_ms, max_delay_ms, limit)
        zones: dict[int, tzinfo | None] = {}
        endpoints: dict[int, list[EndpointRow]] = {}
        for item in items:
            try:
                with conn.begin_nested():
                    created += _announce(conn, item, now, zones, endpoints)
            except Exception:
                log.exception(
                    "revisions: announcing %s hour %s of trigger %r (location %s) failed; "
                    "retrying in %d s",
                    item.kind,
                    item.hour,
                    item.trigger_id,
                    item.location_id,
                    RETRY_MS // 1000,
                )
                store.back_off(conn, item, now + RETRY_MS)
    return created


def _fair_pick(
    conn: Connection, now: int, settle_ms: int, max_delay_ms: int, limit: int
) -> list[Revision]:
    """Up to `limit` due marks: an equal share of each due location's oldest, then what a
    share left unused goes to the locations that had more, in the same order."""
    places = store.due_locations(
        conn, now, settle_ms=settle_ms, max_delay_ms=max_delay_ms, limit=limit
    )
    share = max(1, limit // max(1, len(places)))
    picked: dict[tuple[int, str, str, int], Revision] = {}
    for first_round in (True, False):
        for location_id in places:
            left = limit - len(picked)
            if left <= 0:
                break
            # A location's oldest again, then up to `left` more of it (own locks are
            # not skipped, so the first round's come back first).
            for item in store.due(
                conn,
                now,
                settle_ms=settle_ms,
                max_delay_ms=max_delay_ms,
                limit=share if first_round else share + left,
                lock=True,
                location_id=location_id,
            ):
                key = (item.location_id, item.kind, item.trigger_id, item.hour)
                if key not in picked and len(picked) < limit:
                    picked[key] = item
    return list(picked.values())


def _announce(
    conn: Connection,
    item: Revision,
    now: int,
    zones: dict[int, tzinfo | None],
    endpoints: dict[int, list[EndpointRow]],
) -> int:
    if item.location_id not in zones:
        location = location_store.get_location(conn, item.location_id)
        zones[item.location_id] = None if location is None else parse_zone(location.timezone)
        endpoints[item.location_id] = webhook_store.endpoints_of(
            conn, item.location_id, "revisions"
        )
    zone = zones[item.location_id]
    chosen = [
        e
        for e in endpoints[item.location_id]
        if e.channel_id is None or e.channel_id == item.channel_id
    ]
    deliveries = []
    if zone is not None and chosen:
        body = _ENCODER.encode(payload(item, zone)).decode()
        deliveries = [(e.id, new_webhook_id(), body) for e in chosen]
    webhook_store.insert_deliveries(conn, item.location_id, deliveries, now)
    store.settle(conn, item)
    return len(deliveries)
