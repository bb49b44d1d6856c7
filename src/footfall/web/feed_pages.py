"""The report feeds page: the feeds, creating one (its URLs shown once), revoking one.

Invariant: ids are checked by the API's rules (web.values) before they are used; a new
feed's token is rendered directly, never put in a URL or stored in clear.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from footfall.domain.feeds import GRANULARITIES, METRICS, PERIODS
from footfall.services import feeds, management
from footfall.services.errors import ServiceError
from footfall.web.gate import back, bad_value, checked_form, database, require_session, settings
from footfall.web.render import render
from footfall.web.values import ValueRefused, form_id

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _feed_rows(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "token_prefix": f.token_prefix,
            "name": f.name,
            "location_id": f.location_id,
            "metric": f.metric,
            "granularity": f.granularity,
            "period": f.period,
            "revoked": f.revoked_at is not None,
            "coverage": f.coverage,
        }
        for f in feeds.list_feeds(database(request))
    ]


@router.get("/feeds")
async def feeds_page(request: Request, created: Any = None) -> Response:
    await require_session(request)
    rows = await run_in_threadpool(_feed_rows, request)
    locations = await run_in_threadpool(management.list_locations, database(request))
    return await render(
        request,
        "feeds.html",
        "feeds",
        feeds=rows,
        locations=locations,
        metrics=METRICS,
        periods=PERIODS,
        granularities=GRANULARITIES,
        created=created,
    )


@router.post("/feeds/create")
async def create_feed(request: Request) -> Response:
    form = await checked_form(request)
    try:
        location_id = form_id(form, "location_id")
    except ValueRefused as exc:
        raise bad_value(exc) from None
    try:
        created = await run_in_threadpool(
            lambda: feeds.create_feed(
                database(request),
                location_id=location_id,
                name=form.get("name", ""),
                metric=form.get("metric", "count"),
                triggers=tuple(t.strip() for t in form.get("triggers", "").split(",") if t.strip()),
                period=form.get("period") or "today",
                granularity=form.get("granularity") or "hour",
                coverage=form.get("coverage") == "1",
            )
        )
    except (ValueError, ServiceError) as exc:
        return back("/feeds", f"Not created: {exc}")
    # Rendered directly: the token is stored only as a hash, so its URLs are shown once.
    base = f"{settings(request).public_url}/feed/report/{created.token}"
    shown = {"name": created.feed.name, "json_url": base, "csv_url": f"{base}/csv"}
    return await feeds_page(request, created=shown)


@router.post("/feeds/revoke")
async def revoke_feed(request: Request) -> Response:
    form = await checked_form(request)
    try:
        feed_id = form_id(form, "feed_id")
    except ValueRefused as exc:
        raise bad_value(exc) from None
    try:
        await run_in_threadpool(feeds.revoke_feed_by_id, database(request), feed_id)
    except ServiceError as exc:
        return back("/feeds", f"Not revoked: {exc}")
    return back("/feeds", "Feed revoked: its URLs now answer 404.")
