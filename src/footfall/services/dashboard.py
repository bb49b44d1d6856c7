"""What the operator dashboard shows, as plain data (rendering is the web layer's job).

Every number comes from the same services the APIs use (totals from rollups, live
metrics from services.occupancy, dwell from the histograms), so a chart always agrees
with the read API for the same range. Coverage comes from services.coverage,
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
from footfall.store import listings, reads
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store.db import Database
from footfall.store.feeds import quarter_counts
from footfall.store.locations import TriggerRow

__all__ = [
    "CARD_CHANNELS",
    "COVERAGE_CHANNELS",
    "ONLINE_WITHIN_MS",
    "LocationCard",
    "LocationDetail",
    "live_values",
    "location_cards",
    "location_detail",
]

ONLINE_WITHIN_MS = 5 * 60_000
# What one page shows of a location, whatever it declared (docs/operations.md, Limits):
# enough for a real site at a glance; the read API lists everything.
CARD_CHANNELS = 20  # channels per card on `/`
CARD_TRIGGERS = 200  # triggers listed under them
COVERAGE_CHANNELS = 50  # rows of the location page's coverage table
ZONE_CHOICES = 200  # zone triggers offered for the dwell chart
DOOR_LINES = 50  # enter (or exit) lines found by name when no line counter is defined


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
    # Channels not listed on the card (beyond `CARD_CHANNELS`; `GET /channels` has them).
    more_channels: int = 0


def location_cards(db: Database, now: int | None = None) -> list[LocationCard]:
    now = now_ms() if now is None else now
    cards: list[LocationCard] = []
    with db.read() as conn:
        names = {a.id: a.name for a in account_store.list_accounts(conn)}
        for loc in location_store.list_locations(conn):
            zone = parse_zone(loc.timezone)
            channels, more = _card_channels(conn, loc.id, now)
            cards.append(
                LocationCard(
                    loc.id,
                    loc.name,
                    names.get(loc.account_id, str(loc.account_id)),
                    loc.timezone,
                    loc.version,
                    loc.last_seen_at is not None and now - loc.last_seen_at < ONLINE_WITHIN_MS,
                    None if loc.last_seen_at is None else format_local(loc.last_seen_at, zone),
                    channels,
                    more,
                )
            )
    return cards


def _card_channels(conn: Any, location_id: int, now: int) -> tuple[list[dict[str, Any]], int]:
    """The first `CARD_CHANNELS` channels (declared first) with their triggers (at most
    `CARD_TRIGGERS`) and events of the last 24 hours, and how many channels are not shown:
    every query is bounded, whatever the location declared."""
    shown = listings.first_channels(conn, location_id, CARD_CHANNELS)
    ids = [row.id for row in shown]
    channels: dict[str, dict[str, Any]] = {
        row.id: {"id": row.id, "name": row.name, "active": bool(row.active), "triggers": []}
        for row in shown
    }
    activity = Counter[str]()
    if ids:
        window = Params(channel_ids=tuple(ids))
        for row in reads.rollup_counts(
            conn, [location_id], window, ("trigger_id",), now - 24 * 3_600_000, None
        ):
            activity[row[1]] += int(row[0])
    for trigger in sorted(listings.triggers_on(conn, location_id, ids, CARD_TRIGGERS), key=_by_id):
        channels[trigger.channel_id]["triggers"].append(
            {
                "id": trigger.id,
                "name": trigger.name,
                "type": trigger.type,
                "active": bool(trigger.active),
                "events_24h": activity[trigger.id],
            }
        )
    more = listings.channel_count(conn, location_id) - len(ids) if len(ids) == CARD_CHANNELS else 0
    return list(channels.values()), more


def _by_id(trigger: TriggerRow) -> str:
    return trigger.id


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
    """Entries and exits: the first line counter's triggers, else lines named Enter/Exit
    (at most `DOOR_LINES` each: a site with more doors defines a line counter)."""
    for counter in occupancy_store.list_counters(conn, [location_id]):
        if counter.zone_trigger is None:
            return list(counter.enter_triggers), list(counter.exit_triggers)
    enter, exits = (
        [t.id for t in listings.first_triggers(conn, location_id, "Line", DOOR_LINES, named=named)]
        for named in (("enter", "in"), ("exit", "out"))
    )
    return sorted(enter), sorted(exits)


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
    channels = sorted({t.channel_id for t in listings.triggers_named(conn, location_id, triggers)})
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
    """Per channel (the first `COVERAGE_CHANNELS`, declared first): (hour label, state)
    for today's hours, as `GET /coverage` states them, plus `unknown` (before its first
    heartbeat) and `future`."""
    names = {
        row.id: row.name for row in listings.first_channels(conn, location_id, COVERAGE_CHANNELS)
    }
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
        zones, chosen = _zones(conn, location_id, dwell_zone)
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


def _zones(
    conn: Any, location_id: int, wanted: str | None
) -> tuple[list[tuple[str, str]], str | None]:
    """The zone triggers offered for the dwell chart (the first `ZONE_CHOICES`, and the
    one asked for), and the one shown: `wanted` if it is a zone, else the first."""
    zones = {t.id: t.name for t in listings.first_triggers(conn, location_id, "Zone", ZONE_CHOICES)}
    # Looked up only when it could be an id (at most 64 printable characters: a NUL
    # would be refused by PostgreSQL before the query ran).
    if wanted is not None and wanted not in zones and len(wanted) <= 64 and wanted.isprintable():
        asked = listings.triggers_named(conn, location_id, [wanted])
        zones.update((t.id, t.name) for t in asked if t.type == "Zone")
    ordered = sorted(zones.items())
    chosen = wanted if wanted in zones else (ordered[0][0] if ordered else None)
    return ordered, chosen


def _dwell_today(
    conn: Any, location_id: int, trigger: str | None, since: int, now: int
) -> list[int]:
    """Completed stays per minute of duration, over today's histograms (docs/api.md, Histograms)."""
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
