"""The dashboard's event browser: one page of events, filtered by the read API's rules.

Invariant: the filters are parsed by `domain.read_params` exactly as the read API parses
them (so a bad value is a ParamError naming the parameter, never a database error), the
page is read in one snapshot, and times are shown in each location's own zone.
"""

from __future__ import annotations

from typing import Any, Final

from footfall.domain.read_params import Params
from footfall.domain.times import format_local, parse_zone
from footfall.store import reads
from footfall.store.db import Database
from footfall.store.locations import list_locations

__all__ = ["FILTERS", "events_page"]

FILTERS: Final = frozenset(
    {
        "location_id",
        "channel_id",
        "trigger_id",
        "event_type",
        "origin",
        "since",
        "until",
        "after_id",
    }
)


def events_page(db: Database, query: dict[str, list[str]], page_size: int) -> list[dict[str, Any]]:
    """Up to `page_size` events after the query's `after_id`; raises ParamError."""
    cleaned = {k: v for k, v in query.items() if k in FILTERS and v and v[0]}
    params = Params.parse(cleaned, FILTERS)
    params = Params(**{**params.__dict__, "limit": page_size})
    with db.read() as conn:
        zones = {loc.id: parse_zone(loc.timezone) for loc in list_locations(conn)}
        ids = list(params.location_ids or zones)
        rows = reads.events_page(conn, ids, params) if ids else []
    return [
        {**row._mapping, "event_time": format_local(row.event_time, zones[row.location_id])}
        for row in rows
    ]
