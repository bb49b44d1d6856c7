"""The read API's answers (docs/api.md), item for item the typed `read_items`.

Tenant isolation lives here: every query is limited to the caller's account, and a
location of another account is reported exactly like one that does not exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

import msgspec

from footfall.domain import read_items as items
from footfall.domain import vocabulary as v
from footfall.domain.count_ranges import count_parts
from footfall.domain.histogram import hour_start
from footfall.domain.read_params import Params
from footfall.domain.times import (
    format_local,
    format_local_seconds,
    format_offset,
    now_ms,
    parse_zone,
)
from footfall.services import coverage_reads, occupancy
from footfall.services.errors import NotFoundError
from footfall.services.revisions import FINAL_AFTER_MS
from footfall.store import occupancy as occupancy_store
from footfall.store import reads
from footfall.store import revisions as revision_store
from footfall.store.db import Database

__all__ = ["ReadApi"]

# `locations.id` is a 32-bit INTEGER column; the API takes any id up to 2^63-1 (docs/api.md).
_MAX_LOCATION_ID = 2**31 - 1


@dataclass(frozen=True)
class _Location:
    id: int
    zone: tzinfo


class ReadApi:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock

    def _scope(self, conn: Any, account_id: int, params: Params) -> dict[int, _Location]:
        """The locations a request covers; NotFoundError names one outside the account."""
        wanted = params.location_ids
        if wanted is not None:  # an id beyond the column's range names no location
            wanted = tuple(i for i in wanted if i <= _MAX_LOCATION_ID)
        owned = {
            row.id: _Location(row.id, parse_zone(row.timezone))
            for row in reads.account_locations(conn, account_id, wanted)
        }
        if params.location_ids is None:
            return owned
        for location_id in params.location_ids:
            if location_id not in owned:
                raise NotFoundError(f"location_id {location_id} is not a location of this key")
        return {i: owned[i] for i in params.location_ids}

    def locations(self, account_id: int) -> list[items.Location]:
        now = datetime.now(UTC)
        with self.db.read() as conn:
            rows = reads.account_locations(conn, account_id)
        return [
            items.Location(
                name=row.name,
                id=row.id,
                version=row.version,
                timezone_offset=format_offset(now.astimezone(parse_zone(row.timezone)).utcoffset()),
                hash=row.hash,
            )
            for row in rows
        ]

    def channels(self, account_id: int, params: Params) -> list[items.Channel]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = reads.channels_of(conn, list(scope)) if scope else []
        return [
            items.Channel(
                name=row.name,
                paid=row.paid,
                active=row.active,
                id=row.id,
                location_id=row.location_id,
            )
            for row in rows
        ]

    def triggers(self, account_id: int, params: Params) -> list[items.Trigger]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = reads.triggers_of(conn, list(scope), params.channel_ids) if scope else []
        return [
            items.Trigger(
                name=row.name,
                active=row.active,
                id=row.id,
                type=row.type,
                channel_id=row.channel_id,
                location_id=row.location_id,
            )
            for row in rows
        ]

    def events(self, account_id: int, params: Params) -> list[items.Event]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            rows = reads.events_page(conn, list(scope), params)
        return [
            items.Event(
                record_id=row.record_id,
                event_type=row.event_type,
                snapshot_id=row.snapshot_id,
                trigger_id=row.trigger_id,
                origin=row.origin,
                suborigin=row.suborigin,
                age_range=row.age_range,
                gender=row.gender,
                id=row.id,
                channel_id=row.channel_id,
                object_id=row.object_id,
                location_id=row.location_id,
                event_time=format_local(row.event_time, scope[row.location_id].zone),
            )
            for row in rows
        ]

    def totals(
        self, conn: Any, location_ids: Sequence[int], params: Params, group: Sequence[str]
    ) -> Counter[tuple[Any, ...]]:
        """Exact counts in [since, until): hourly rollups for whole hours, quarter rollups
        for whole quarter-hours at the edges, raw events for the rest (`count_parts`)."""
        counts: Counter[tuple[Any, ...]] = Counter()
        for part in count_parts(params.since, params.until):
            if part.source == "raw":
                assert part.start is not None
                assert part.end is not None
                rows = reads.raw_counts(conn, location_ids, params, group, part.start, part.end)
            else:
                rows = reads.rollup_counts(
                    conn, location_ids, params, group, part.start, part.end, by=part.source
                )
            for row in rows:
                counts[tuple(row[1:])] += int(row[0])
        return counts

    def _updated(
        self, conn: Any, scope: dict[int, _Location], params: Params, group: Sequence[str]
    ) -> set[tuple[Any, ...]]:
        """The totals items (keys of `group`) that may have changed at or after
        `updated_since` (docs/api.md, Revisions; `services.revisions`): those holding an
        hour revised since, and those with events in an hour that was not final yet then."""
        assert params.updated_since is not None
        keep: set[tuple[Any, ...]] = set()
        by_trigger = group[-1] == "trigger_id"
        for location in scope.values():
            revised = revision_store.revised_since(
                conn, [location.id], "totals", params.updated_since, params.since, params.until
            )
            types = {
                t.id: v.EVENT_TYPES_BY_TRIGGER_TYPE.get(t.type, frozenset())
                for t in reads.triggers_of(conn, [location.id], None)
            }
            for item in revised:
                if by_trigger:
                    keep.add((location.id, item.channel_id, item.trigger_id))
                else:
                    keep.update(
                        (location.id, item.channel_id, kind)
                        for kind in types.get(item.trigger_id, ())
                    )
            open_from = hour_start(location.zone, params.updated_since - FINAL_AFTER_MS)
            since = open_from if params.since is None else max(params.since, open_from)
            if params.until is None or since < params.until:
                recent = replace(params, since=since)
                counts = self.totals(conn, [location.id], recent, group)
                keep.update(key for key, count in counts.items() if count > 0)
        return keep

    def totals_by_trigger(self, account_id: int, params: Params) -> list[items.EventTotalByTrigger]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            group = ("location_id", "channel_id", "trigger_id")
            counts = self.totals(conn, list(scope), params, group)
            if params.updated_since is not None:
                updated = self._updated(conn, scope, params, group)
                counts = Counter({k: c for k, c in counts.items() if k in updated})
            names = {
                (row.location_id, row.id): row.name
                for row in reads.triggers_of(conn, list(scope), None)
            }
        return [
            items.EventTotalByTrigger(
                trigger_name=names.get((location_id, trigger_id), trigger_id),
                trigger_id=trigger_id,
                count=count,
                channel_id=channel_id,
                location_id=location_id,
            )
            for (location_id, channel_id, trigger_id), count in sorted(counts.items())
            if count > 0
        ]

    def totals_by_type(self, account_id: int, params: Params) -> list[items.EventTotalByType]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            group = ("location_id", "channel_id", "event_type")
            counts = self.totals(conn, list(scope), params, group)
            if params.updated_since is not None:
                updated = self._updated(conn, scope, params, group)
                counts = Counter({k: c for k, c in counts.items() if k in updated})
        return [
            items.EventTotalByType(count=count, type=event_type, channel_id=channel_id)
            for (_location_id, channel_id, event_type), count in sorted(counts.items())
            if count > 0
        ]

    def occupancy(self, account_id: int, params: Params) -> list[items.Occupancy]:
        """Live occupancy counters of the locations in scope (a Footfall extension)."""
        now = self.clock()
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            counters = occupancy_store.list_counters(conn, list(scope)) if scope else []
            return [
                items.Occupancy(
                    **occupancy.render_counter(
                        occupancy.counter_value(conn, c, scope[c.location_id].zone, now),
                        scope[c.location_id].zone,
                    )
                )
                for c in counters
            ]

    def queues(self, account_id: int, params: Params) -> list[items.Queue]:
        """Live queue lengths and waits of the locations in scope (a Footfall extension)."""
        now = self.clock()
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = occupancy_store.list_queues(conn, list(scope)) if scope else []
            return [
                items.Queue(
                    **occupancy.render_queue(
                        occupancy.queue_value(conn, q, now), scope[q.location_id].zone
                    )
                )
                for q in rows
            ]

    def histograms(self, account_id: int, params: Params) -> list[items.Histogram]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            rows = reads.histograms_page(conn, list(scope), params)
        return [
            items.Histogram(
                trigger_id=row.trigger_id,
                id=row.id,
                channel_id=row.channel_id,
                counting_data=msgspec.json.decode(row.counting_data, type=list[float]),
                lifetime_data=msgspec.json.decode(row.lifetime_data, type=list[int]),
                location_id=row.location_id,
                histogram_time=format_local_seconds(row.hour_start, scope[row.location_id].zone),
            )
            for row in rows
        ]

    def coverage(self, account_id: int, params: Params) -> list[items.Coverage]:
        """Per channel and completed local hour: covered seconds and state (docs/api.md,
        Coverage); see `coverage_reads`."""
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            zones = {location.id: location.zone for location in scope.values()}
            return coverage_reads.coverage_items(conn, zones, params, self.clock())
