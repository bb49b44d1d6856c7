"""What the operator dashboard shows, as plain data (rendering is the web layer's job).

Every number comes from the same services the APIs use (totals from rollups, live
metrics from services.occupancy, dwell from the histograms), so a chart always agrees
with the read API for the same range. Coverage (issue 17) comes from services.coverage,
like `GET /coverage`: an hour whose cameras were all known to be offline is a gap.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Any

import msgspec

from footfall.domain.coverage import state_of
from footfall.domain.feeds import local_midnight
from footfall.domain.histogram import local_hours
from footfall.domain.read_params import Params
from footfall.domain.times import format_local, from_ms, now_ms, parse_zone
from footfall.services import coverage, occupancy
from footfall.services.reads import ReadApi
from footfall.store import accounts as account_store
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store import reads
from footfall.store.db import Database
from footfall.store.feeds import quarter_counts

__all__ = [
    "ONLINE_WITHIN_MS",
    "LocationCard",
    "LocationDetail",
    "live_values",
    "location_cards",
    "location_detail",
]

ONLINE_WITHIN_MS = 5 * 60_000


@dataclass
class LocationCard:
    id: int
    name: str
    account: str
    timezone: str
    version: str
    online: bool
    last_seen: str | None
    channels: list[dict[str, Any]] = field(default_factory=list)


def location_cards(db: Database, now: int | None = None) -> list[LocationCard]:
    now = now_ms() if now is None else now
    cards: list[LocationCard] = []
    with db.read() as conn:
        names = {a.id: a.name for a in account_store.list_accounts(conn)}
        for loc in location_store.list_locations(conn):
            zone = parse_zone(loc.timezone)
            triggers = location_store.load_triggers(conn, loc.id)
            activity = Counter[str]()
            for row in reads.rollup_counts(
                conn, [loc.id], Params(), ("trigger_id",), now - 24 * 3_600_000, None
            ):
                activity[row[1]] += int(row[0])
            channels: dict[str, dict[str, Any]] = {}
            for row in reads.channels_of(conn, [loc.id]):
                channels[row.id] = {
                    "id": row.id,
                    "name": row.name,
                    "active": bool(row.active),
                    "triggers": [],
                }
            for trigger in sorted(triggers.values(), key=lambda t: t.id):
                channels.setdefault(
                    trigger.channel_id,
                    {
                        "id": trigger.channel_id,
                        "name": trigger.channel_id,
                        "active": False,
                        "triggers": [],
                    },
                )["triggers"].append(
                    {
                        "id": trigger.id,
                        "name": trigger.name,
                        "type": trigger.type,
                        "active": bool(trigger.active),
                        "events_24h": activity[trigger.id],
                    }
                )
            cards.append(
                LocationCard(
                    loc.id,
                    loc.name,
                    names.get(loc.account_id, str(loc.account_id)),
                    loc.timezone,
                    loc.version,
                    loc.last_seen_at is not None and now - loc.last_seen_at < ONLINE_WITHIN_MS,
                    None if loc.last_seen_at is None else format_local(loc.last_seen_at, zone),
                    list(channels.values()),
                )
            )
    return cards


@dataclass
class LocationDetail:
    id: int
    name: str
    account_id: int
    timezone: str
    hours: list[str]
    entries_today: list[int]
    entries_last_week: list[int]
    exits_today: list[int]
    exits_last_week: list[int]
    enter_triggers: list[str]
    exit_triggers: list[str]
    zone_triggers: list[tuple[str, str]]
    dwell_zone: str | None
    dwell_minutes: list[int]
    by_type: list[tuple[str, int]]
    by_origin: list[tuple[str, int]]
    since: str
    until: str
    live: dict[str, Any]
    # Issue 17: per series, hours no camera of its triggers was covered (gaps), and each
    # channel's coverage state per hour of today.
    entries_gaps: list[list[bool]] = field(default_factory=list)
    exits_gaps: list[list[bool]] = field(default_factory=list)
    coverage_rows: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    # Issue 17: the occupancy counters' audit trail, newest first, and the line counters
    # an operator may calibrate (id, name).
    audit: list[dict[str, Any]] = field(default_factory=list)
    line_counters: list[tuple[int, str]] = field(default_factory=list)


def _door_triggers(conn: Any, location_id: int) -> tuple[list[str], list[str]]:
    """Entries and exits: the first line counter's triggers, else lines named Enter/Exit."""
    for counter in occupancy_store.list_counters(conn, [location_id]):
        if counter.zone_trigger is None:
            return list(counter.enter_triggers), list(counter.exit_triggers)
    lines = [
        t for t in location_store.load_triggers(conn, location_id).values() if t.type == "Line"
    ]
    enter = [t.id for t in lines if "enter" in t.name.lower() or t.name.lower() == "in"]
    exits = [t.id for t in lines if "exit" in t.name.lower() or t.name.lower() == "out"]
    return enter, exits


def _per_hour(
    conn: Any, location_id: int, triggers: list[str], hours: list[tuple[int, int]]
) -> list[int]:
    values = [0] * len(hours)
    if not triggers or not hours:
        return values
    starts = [a for a, _ in hours]
    for _t, quarter, count in quarter_counts(
        conn, location_id, triggers, hours[0][0], hours[-1][1], ("TripwireCrossed",)
    ):
        values[bisect_right(starts, quarter) - 1] += int(count)
    return values


def _gaps(
    conn: Any,
    location_id: int,
    triggers: list[str],
    hours: list[tuple[int, int]],
    now: int,
) -> list[bool]:
    """Hours (begun by now) in which no channel of these triggers was covered, where
    coverage is known (an agent that never sent a heartbeat shows no gap)."""
    known_triggers = location_store.load_triggers(conn, location_id)
    channels = sorted({known_triggers[t].channel_id for t in triggers if t in known_triggers})
    if not channels or not hours:
        return [False] * len(hours)
    stored = coverage.channel_coverage(conn, location_id, channels, hours[0][0], hours[-1][1])
    gaps = []
    for start, end in hours:
        stop = min(end, now)
        known = [c for c in stored.values() if c.known(stop)]
        gaps.append(start < now and bool(known) and not any(c.seconds(start, stop) for c in known))
    return gaps


def _coverage_rows(
    conn: Any, location_id: int, hours: list[tuple[int, int]], zone: tzinfo, now: int
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Per channel: (hour label, state) for today's hours, as `GET /coverage` states them,
    plus `unknown` (before its first heartbeat) and `future`."""
    names = {row.id: row.name for row in reads.channels_of(conn, [location_id])}
    if not names or not hours:
        return []
    stored = coverage.channel_coverage(conn, location_id, sorted(names), hours[0][0], hours[-1][1])
    rows = []
    for channel, name in sorted(names.items()):
        cells = []
        for start, end in hours:
            label = f"{from_ms(start, zone):%H}"
            stop = min(end, now)
            if start >= now:
                cells.append((label, "future"))
            elif not stored[channel].known(stop):
                cells.append((label, "unknown"))
            else:
                cells.append(
                    (label, state_of(stored[channel].seconds(start, stop), (stop - start) // 1000))
                )
        rows.append((name, cells))
    return rows


def _audit(conn: Any, location_id: int, zone: tzinfo) -> list[dict[str, Any]]:
    names = {c.id: c.name for c in occupancy_store.list_counters(conn, [location_id])}
    return [
        {
            "at": format_local(row.at, zone)[:19].replace("T", " "),
            "counter": names.get(row.counter_id, str(row.counter_id)),
            "kind": row.kind.replace("_", " "),
            "by": row.actor,
            "change": (
                ""
                if row.value_before is None and row.value_after is None
                else f"{row.value_before} → {row.value_after}"
            ),
            "note": row.note,
            "withdrawn": row.withdrawn_at is not None,
        }
        for row in occupancy_store.audit_rows(conn, location_ids=[location_id], limit=50)
    ]


def location_detail(
    db: Database, location_id: int, *, dwell_zone: str | None = None, now: int | None = None
) -> LocationDetail | None:
    now = now_ms() if now is None else now
    with db.read() as conn:
        loc = location_store.get_location(conn, location_id)
        if loc is None:
            return None
        zone = parse_zone(loc.timezone)
        today = from_ms(now, zone).date()
        midnight = local_midnight(today, zone)
        hours = local_hours(zone, midnight, local_midnight(today + timedelta(days=1), zone))
        week_ago = local_midnight(today - timedelta(days=7), zone)
        last_week = local_hours(zone, week_ago, local_midnight(today - timedelta(days=6), zone))
        enter, exits = _door_triggers(conn, location_id)
        triggers = location_store.load_triggers(conn, location_id)
        zones = sorted((t.id, t.name) for t in triggers.values() if t.type == "Zone")
        chosen = (
            dwell_zone if dwell_zone in {z for z, _ in zones} else (zones[0][0] if zones else None)
        )
        dwell = _dwell_today(conn, location_id, chosen, midnight, now)
        api = ReadApi(db)
        window = Params(location_ids=(location_id,), since=midnight, until=now + 1)
        by_type = Counter[str]()
        for key, count in api.totals(conn, [location_id], window, ("event_type",)).items():
            by_type[key[0]] += count
        by_origin = Counter[str]()
        for key, count in api.totals(conn, [location_id], window, ("origin",)).items():
            by_origin[key[0]] += count
        return LocationDetail(
            loc.id,
            loc.name,
            loc.account_id,
            loc.timezone,
            [f"{from_ms(a, zone):%H}" for a, _ in hours],
            _per_hour(conn, location_id, enter, hours),
            _per_hour(conn, location_id, enter, last_week),
            _per_hour(conn, location_id, exits, hours),
            _per_hour(conn, location_id, exits, last_week),
            enter,
            exits,
            zones,
            chosen,
            dwell,
            sorted(by_type.items()),
            sorted(by_origin.items()),
            format_local(midnight, zone),
            format_local(now + 1, zone),
            _live(conn, location_id, zone, now),
            [_gaps(conn, location_id, enter, h, now) for h in (hours, last_week)],
            [_gaps(conn, location_id, exits, h, now) for h in (hours, last_week)],
            _coverage_rows(conn, location_id, hours, zone, now),
            _audit(conn, location_id, zone),
            [
                (c.id, c.name)
                for c in occupancy_store.list_counters(conn, [location_id])
                if c.zone_trigger is None
            ],
        )


def _dwell_today(
    conn: Any, location_id: int, trigger: str | None, since: int, now: int
) -> list[int]:
    """Completed stays per minute of duration, over today's histograms (SPEC §5.2)."""
    if trigger is None:
        return []
    params = Params(trigger_ids=(trigger,), since=since, until=now + 1, limit=10_000)
    total: list[int] = []
    for row in reads.histograms_page(conn, [location_id], params):
        for minute, count in enumerate(msgspec.json.decode(row.lifetime_data, type=list[int])):
            if minute >= len(total):
                total.extend([0] * (minute + 1 - len(total)))
            total[minute] += count
    return total


def _live(conn: Any, location_id: int, zone: tzinfo, now: int) -> dict[str, Any]:
    return {
        "occupancy": [
            occupancy.render_counter(occupancy.counter_value(conn, c, zone, now), zone)
            for c in occupancy_store.list_counters(conn, [location_id])
        ],
        "queues": [
            occupancy.render_queue(occupancy.queue_value(conn, q, now), zone)
            for q in occupancy_store.list_queues(conn, [location_id])
        ],
    }


def live_values(db: Database, location_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        loc = location_store.get_location(conn, location_id)
        if loc is None:
            return None
        return _live(conn, location_id, parse_zone(loc.timezone), now_ms())
