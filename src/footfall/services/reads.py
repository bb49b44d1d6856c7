"""The read API's answers (SPEC §4, §5.1), item for item in the reference shapes.

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

from footfall.domain import vocabulary as v
from footfall.domain.count_ranges import count_parts
from footfall.domain.coverage import state_of
from footfall.domain.histogram import hour_start, local_hours
from footfall.domain.read_params import ParamError, Params
from footfall.domain.times import (
    MS_PER_HOUR,
    format_local,
    format_local_seconds,
    format_offset,
    now_ms,
    parse_zone,
)
from footfall.services import coverage, occupancy
from footfall.services.errors import NotFoundError
from footfall.services.revisions import FINAL_AFTER_MS
from footfall.store import occupancy as occupancy_store
from footfall.store import reads
from footfall.store import revisions as revision_store
from footfall.store.db import Database

__all__ = ["MAX_COVERAGE_ITEMS", "ReadApi"]

Item = dict[str, Any]
MAX_COVERAGE_ITEMS = 10_000  # channel-hours in one /coverage answer
_DAY_MS = 86_400_000
_DAY_HOURS = 25  # the longest local day (DST fall-back)


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
        owned = {
            row.id: _Location(row.id, parse_zone(row.timezone))
            for row in reads.account_locations(conn, account_id, params.location_ids)
        }
        if params.location_ids is None:
            return owned
        for location_id in params.location_ids:
            if location_id not in owned:
                raise NotFoundError(f"location_id {location_id} is not a location of this key")
        return {i: owned[i] for i in params.location_ids}

    def locations(self, account_id: int) -> list[Item]:
        now = datetime.now(UTC)
        with self.db.read() as conn:
            rows = reads.account_locations(conn, account_id)
        return [
            {
                "name": row.name,
                "id": row.id,
                "version": row.version,
                "timezone_offset": format_offset(
                    now.astimezone(parse_zone(row.timezone)).utcoffset()
                ),
                "hash": row.hash,
            }
            for row in rows
        ]

    def channels(self, account_id: int, params: Params) -> list[Item]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = reads.channels_of(conn, list(scope)) if scope else []
        return [
            {
                "name": row.name,
                "paid": row.paid,
                "active": row.active,
                "id": row.id,
                "location_id": row.location_id,
            }
            for row in rows
        ]

    def triggers(self, account_id: int, params: Params) -> list[Item]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = reads.triggers_of(conn, list(scope), params.channel_ids) if scope else []
        return [
            {
                "name": row.name,
                "active": row.active,
                "id": row.id,
                "type": row.type,
                "channel_id": row.channel_id,
                "location_id": row.location_id,
            }
            for row in rows
        ]

    def events(self, account_id: int, params: Params) -> list[Item]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            rows = reads.events_page(conn, list(scope), params)
        return [
            {
                "record_id": row.record_id,
                "event_type": row.event_type,
                "snapshot_id": row.snapshot_id,
                "trigger_id": row.trigger_id,
                "origin": row.origin,
                "suborigin": row.suborigin,
                "age_range": row.age_range,
                "gender": row.gender,
                "id": row.id,
                "channel_id": row.channel_id,
                "object_id": row.object_id,
                "location_id": row.location_id,
                "event_time": format_local(row.event_time, scope[row.location_id].zone),
            }
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
        `updated_since` (issue 17, `services.revisions`): those holding an hour revised
        since, and those with events in an hour that was not final yet then."""
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

    def totals_by_trigger(self, account_id: int, params: Params) -> list[Item]:
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
            {
                "trigger_name": names.get((location_id, trigger_id), trigger_id),
                "trigger_id": trigger_id,
                "count": count,
                "channel_id": channel_id,
                "location_id": location_id,
            }
            for (location_id, channel_id, trigger_id), count in sorted(counts.items())
            if count > 0
        ]

    def totals_by_type(self, account_id: int, params: Params) -> list[Item]:
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
            {"count": count, "type": event_type, "channel_id": channel_id}
            for (_location_id, channel_id, event_type), count in sorted(counts.items())
            if count > 0
        ]

    def occupancy(self, account_id: int, params: Params) -> list[Item]:
        """Live occupancy counters of the locations in scope (SPEC §4 extension)."""
        now = self.clock()
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            counters = occupancy_store.list_counters(conn, list(scope)) if scope else []
            return [
                occupancy.render_counter(
                    occupancy.counter_value(conn, c, scope[c.location_id].zone, now),
                    scope[c.location_id].zone,
                )
                for c in counters
            ]

    def queues(self, account_id: int, params: Params) -> list[Item]:
        """Live queue lengths and waits of the locations in scope (SPEC §4 extension)."""
        now = self.clock()
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            rows = occupancy_store.list_queues(conn, list(scope)) if scope else []
            return [
                occupancy.render_queue(
                    occupancy.queue_value(conn, q, now), scope[q.location_id].zone
                )
                for q in rows
            ]

    def histograms(self, account_id: int, params: Params) -> list[Item]:
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            if not scope or params.empty_range:
                return []
            rows = reads.histograms_page(conn, list(scope), params)
        return [
            {
                "trigger_id": row.trigger_id,
                "id": row.id,
                "channel_id": row.channel_id,
                "counting_data": msgspec.json.decode(row.counting_data, type=list[float]),
                "lifetime_data": msgspec.json.decode(row.lifetime_data, type=list[int]),
                "location_id": row.location_id,
                "histogram_time": format_local_seconds(row.hour_start, scope[row.location_id].zone),
            }
            for row in rows
        ]

    def coverage(self, account_id: int, params: Params) -> list[Item]:
        """Per channel and completed local hour: covered seconds and state (extension,
        issue 17). Default window: the 24 hours before `until` (default now). Hours before
        a channel's first heartbeat are left out: nothing is known of them."""
        now = self.clock()
        until = params.until if params.until is not None else now
        since = params.since if params.since is not None else until - _DAY_MS
        if since >= until:
            return []

        def too_large(size: str, limit: int = MAX_COVERAGE_ITEMS) -> ParamError:
            return ParamError(
                "since",
                f"the range covers {size} channel-hours; at most {limit} per "
                "request: narrow since/until or give channel_id",
            )

        # Refused before listing its hours: even one channel would pass the limit.
        if min(until, now) - since > (MAX_COVERAGE_ITEMS + 2) * MS_PER_HOUR:
            raise too_large(f"more than {MAX_COVERAGE_ITEMS}")
        with self.db.read() as conn:
            scope = self._scope(conn, account_id, params)
            plan: list[tuple[_Location, list[str], list[tuple[int, int]]]] = []
            size = 0
            for location in scope.values():
                channels = [
                    row.id
                    for row in reads.channels_of(conn, [location.id])
                    if params.channel_ids is None or row.id in params.channel_ids
                ]
                end = min(until, now)
                hours = [
                    (a, b)
                    for a, b in local_hours(location.zone, hour_start(location.zone, since), end)
                    if since <= a < until and b <= now
                ]
                plan.append((location, channels, hours))
                size += len(channels) * len(hours)
            # A day of every channel listed always fits (docs/api.md, Coverage): the
            # default window answers for a location at its channel limit.
            limit = max(MAX_COVERAGE_ITEMS, _DAY_HOURS * sum(len(c) for _, c, _ in plan))
            if size > limit:
                raise too_large(str(size), limit)
            items: list[Item] = []
            for location, channels, hours in plan:
                if not channels or not hours:
                    continue
                # Every channel of the location: no list of them in the statement.
                asked = None if params.channel_ids is None else channels
                stored = coverage.channel_coverage(
                    conn, location.id, asked, hours[0][0], hours[-1][1]
                )
                for channel in channels:
                    known = stored.get(channel)
                    if known is None:  # no mark ever: nothing is known of it
                        continue
                    for start, end in hours:
                        if not known.known(end):
                            continue
                        seconds = known.seconds(start, end)
                        items.append(
                            {
                                "location_id": location.id,
                                "channel_id": channel,
                                "hour": format_local_seconds(start, location.zone),
                                "covered_seconds": seconds,
                                "state": state_of(seconds, (end - start) // 1000),
                            }
                        )
        return items
