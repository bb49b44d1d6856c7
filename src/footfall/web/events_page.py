"""The event browser (`/events`): the read API's filters, one page at a time.

Invariant: filters are parsed by the read API's rules (services.event_browser); a bad one
is shown on the page as the API would word it (never a 5xx), and paging continues after
the last id shown.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from footfall.domain import vocabulary as v
from footfall.domain.read_params import ParamError
from footfall.services import event_browser, management
from footfall.web.gate import database, require_session
from footfall.web.render import render

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE: Final = 100
_SHOWN: Final = (
    "location_id",
    "channel_id",
    "trigger_id",
    "event_type",
    "origin",
    "since",
    "until",
)


def _query(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all its values (a repeat is refused by the parser)."""
    query: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        query.setdefault(name, []).append(value)
    return query


@router.get("/events")
async def events_page(request: Request) -> Response:
    await require_session(request)
    query = _query(request)
    filters = {k: (query.get(k) or [""])[0] for k in _SHOWN}
    db = database(request)
    locations = await run_in_threadpool(management.list_locations, db)
    error = None
    rows: list[dict[str, Any]] = []
    next_url = None
    try:
        rows = await run_in_threadpool(event_browser.events_page, db, query, PAGE_SIZE)
    except ParamError as exc:
        error = str(exc)
    if len(rows) == PAGE_SIZE:
        kept = {k: value for k, value in filters.items() if value}
        next_url = "/events?" + urlencode({**kept, "after_id": rows[-1]["id"]})
    return await render(
        request,
        "events.html",
        "events",
        events=rows,
        f=filters,
        locations=locations,
        event_types=sorted(v.EVENT_TYPES),
        origins=v.ORIGINS,
        error=error,
        next_url=next_url,
        page_size=PAGE_SIZE,
    )
