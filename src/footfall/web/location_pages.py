"""The locations overview (`/`), one location's page, its live values and calibration.

Invariant: a location id from a path or form is checked by the API's rules (web.values)
before any query, so an id no database key can hold is a 400, an unknown one a 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from footfall.services import dashboard, drift
from footfall.services.errors import ServiceError
from footfall.web import charts
from footfall.web.gate import (
    admin_token,
    back,
    bad_value,
    checked_form,
    database,
    require_session,
    settings,
    signed_in,
)
from footfall.web.render import render
from footfall.web.values import ValueRefused, control_character, form_id, parse_id

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    if admin_token(request) is None:
        return await render(
            request, "disabled.html", "disabled", problem=settings(request).admin_token_problem
        )
    await require_session(request)
    cards = await run_in_threadpool(dashboard.location_cards, database(request))
    return await render(request, "locations.html", "locations", cards=cards)


@router.get("/locations/{location_id}")
async def location_page(request: Request, location_id: str, zone: str | None = None) -> Response:
    await require_session(request)
    try:
        found = parse_id("location id", location_id)
        problem = control_character({"zone": zone or ""})
        if problem is not None:
            raise ValueRefused(problem)
    except ValueRefused as exc:
        raise bad_value(exc) from None
    detail = await run_in_threadpool(
        lambda: dashboard.location_detail(database(request), found, dwell_zone=zone)
    )
    if detail is None:
        return await render(
            request,
            "locations.html",
            "locations",
            status=404,
            cards=[],
            notice=f"No location {found}.",
        )
    entries = charts.bar_chart(
        "Entries per hour",
        detail.hours,
        [("Today", detail.entries_today), ("Same weekday last week", detail.entries_last_week)],
        chart_id="entries-chart",
        gaps=detail.entries_gaps,
    )
    exits = charts.bar_chart(
        "Exits per hour",
        detail.hours,
        [("Today", detail.exits_today), ("Same weekday last week", detail.exits_last_week)],
        chart_id="exits-chart",
        gaps=detail.exits_gaps,
    )
    dwell = charts.bar_chart(
        "Completed stays by minutes spent",
        [str(m) for m in range(len(detail.dwell_minutes))],
        [("Stays", detail.dwell_minutes)],
        chart_id="dwell-chart",
    )
    return await render(
        request,
        "location.html",
        "locations",
        d=detail,
        entries_chart=entries,
        exits_chart=exits,
        dwell_chart=dwell,
    )


@router.post("/occupancy/calibrate")
async def calibrate(request: Request) -> Response:
    """An operator's head count from the location page, logged with the name the
    operator gives (the dashboard has one token, not users)."""
    form = await checked_form(request)
    location = form.get("location_id", "")
    back_to = f"/locations/{location}" if location.isascii() and location.isdigit() else "/"
    try:
        counter_id = form_id(form, "counter_id")
    except ValueRefused as exc:
        raise bad_value(exc) from None
    try:
        value = int(form.get("value", "").strip())
    except ValueError:
        return back(back_to, "Not calibrated: the head count must be a whole number.")
    try:
        done = await run_in_threadpool(
            lambda: drift.calibrate(database(request), counter_id, value, by=form.get("by", ""))
        )
    except ServiceError as exc:
        return back(back_to, f"Not calibrated: {exc}")
    return back(back_to, f"Counter {counter_id} set to {done.occupancy}.")


@router.get("/dashboard/live/{location_id}")
async def live(request: Request, location_id: str) -> Response:
    if not await signed_in(request):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    try:
        found = parse_id("location id", location_id)
    except ValueRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    values = await run_in_threadpool(dashboard.live_values, database(request), found)
    if values is None:
        return JSONResponse({"error": "no such location"}, status_code=404)
    return JSONResponse(values, headers={"Cache-Control": "no-store"})
