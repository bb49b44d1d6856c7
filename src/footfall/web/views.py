"""The dashboard's pages and form actions (mounted by the app factory at `/`).

Every page needs a session (else a redirect to /login); every POST needs the CSRF field
(else 403). Pages are not part of the public API, so they stay out of /openapi.json.
"""

from __future__ import annotations

import hmac
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from footfall.api.read import query_lists
from footfall.config import Settings
from footfall.domain import vocabulary as v
from footfall.domain.feeds import GRANULARITIES, METRICS, PERIODS
from footfall.domain.read_params import ParamError, Params
from footfall.domain.times import format_local, parse_zone
from footfall.services import dashboard, feeds, key_nonces, management, occupancy, webhooks
from footfall.services.errors import ServiceError
from footfall.store import reads
from footfall.store.db import Database
from footfall.web import charts
from footfall.web.auth import (
    COOKIE,
    SESSION_SECONDS,
    csrf_token,
    new_session,
    session_valid,
    token_matches,
)
from footfall.web.forms import FORM_LIMIT, LOGIN_LIMIT, FormRefused, read_form
from footfall.web.throttle import LoginThrottle

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


class _Redirect(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _admin_token(request: Request) -> str | None:
    """The operator token, or None while the dashboard is off (unset or too short)."""
    return _settings(request).dashboard_token


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Refused</title><h1>Refused</h1><p>{escape(message)}</p>",
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _context(request: Request, page: str, **extra: Any) -> dict[str, Any]:
    token = _admin_token(request)
    cookie = request.cookies.get(COOKIE, "")
    signed_in = token is not None and session_valid(token, cookie)
    return {
        "request": request,
        "page": page,
        "signed_in": signed_in,
        "csrf": csrf_token(token, cookie) if signed_in and token else "",
        "notice": request.query_params.get("notice"),
        **extra,
    }


def _render(
    request: Request,
    template: str,
    page: str,
    status: int = 200,
    extra_headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    return templates.TemplateResponse(
        request,
        template,
        _context(request, page, **extra),
        status_code=status,
        headers={"Cache-Control": "no-store", **(extra_headers or {})},
    )


def _session(request: Request) -> str:
    """The operator token, once the session is checked; redirects otherwise."""
    token = _admin_token(request)
    if token is None:
        raise _Redirect(RedirectResponse("/", status_code=303))
    if not session_valid(token, request.cookies.get(COOKIE)):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _Redirect(RedirectResponse(f"/login?next={quote(target)}", status_code=303))
    return token


async def _form(request: Request) -> dict[str, str]:
    """The posted form, after the session and CSRF checks (403 without a valid token)."""
    token = _session(request)
    try:
        form = await read_form(request, FORM_LIMIT)
    except FormRefused as exc:
        raise _Redirect(_refused(exc.status, exc.message)) from None
    expected = csrf_token(token, request.cookies.get(COOKIE, ""))
    if not hmac.compare_digest(form.get("csrf", ""), expected):
        raise _Redirect(
            HTMLResponse(
                "<h1>Refused</h1><p>This form has no valid CSRF token: reload the page and try "
                "again.</p>",
                status_code=403,
            )
        )
    return form


def _back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


def redirect_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Redirect)
    return exc.response


# -- sign in -----------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if _admin_token(request) is None:
        return RedirectResponse("/", status_code=303)
    return _render(request, "login.html", "login", next=next, error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    token = _admin_token(request)
    if token is None:
        return RedirectResponse("/", status_code=303)
    address = request.client.host if request.client else "unknown"
    throttle = _throttle(request)
    wait = throttle.retry_after(address)
    if wait is not None:  # refused unchecked, so guesses during the back-off are worthless
        return _render(
            request,
            "login.html",
            "login",
            status=429,
            next="/",
            error=f"Too many failed sign-ins: wait {wait} s before trying again.",
            extra_headers={"Retry-After": str(wait)},
        )
    try:
        form = await read_form(request, LOGIN_LIMIT)
    except FormRefused as exc:
        return _refused(exc.status, exc.message)
    target = form.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    if not token_matches(token, form.get("token", "")):
        throttle.failed(address)
        return _render(
            request,
            "login.html",
            "login",
            status=401,
            next=target,
            error="That is not this server's operator token. Check "
            "FOOTFALL_ADMIN_TOKEN (footfall demo prints it) and try again.",
        )
    throttle.succeeded(address)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        new_session(token),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        # Behind a TLS proxy the request itself is http: FOOTFALL_PUBLIC_URL says https.
        secure=_settings(request).secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- pages -------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    if _admin_token(request) is None:
        return _render(
            request, "disabled.html", "disabled", problem=_settings(request).admin_token_problem
        )
    _session(request)
    cards = await run_in_threadpool(dashboard.location_cards, _db(request))
    return _render(request, "locations.html", "locations", cards=cards)


@router.get("/locations/{location_id}")
async def location_page(request: Request, location_id: int, zone: str | None = None) -> Response:
    _session(request)
    detail = await run_in_threadpool(
        lambda: dashboard.location_detail(_db(request), location_id, dwell_zone=zone)
    )
    if detail is None:
        return _render(
            request,
            "locations.html",
            "locations",
            status=404,
            cards=[],
            notice=f"No location {location_id}.",
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
    return _render(
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
    """An operator's head count from the location page (issue 17), logged with the name
    the operator gives (the dashboard has one token, not users)."""
    form = await _form(request)
    location = form.get("location_id", "")
    back = f"/locations/{location}" if location.isdigit() else "/"
    try:
        counter_id = int(form.get("counter_id", ""))
        value = int(form.get("value", "").strip())
    except ValueError:
        return _back(back, "Not calibrated: the head count must be a whole number.")
    try:
        done = await run_in_threadpool(
            lambda: occupancy.calibrate(_db(request), counter_id, value, by=form.get("by", ""))
        )
    except ServiceError as exc:
        return _back(back, f"Not calibrated: {exc}")
    return _back(back, f"Counter {counter_id} set to {done.occupancy}.")


@router.get("/dashboard/live/{location_id}")
async def live(request: Request, location_id: int) -> Response:
    token = _admin_token(request)
    if token is None or not session_valid(token, request.cookies.get(COOKIE)):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    values = await run_in_threadpool(dashboard.live_values, _db(request), location_id)
    if values is None:
        return JSONResponse({"error": "no such location"}, status_code=404)
    return JSONResponse(values, headers={"Cache-Control": "no-store"})


def _events(db: Database, query: dict[str, list[str]]) -> tuple[list[dict[str, Any]], Any]:
    names = frozenset(
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
    cleaned = {k: v for k, v in query.items() if k in names and v and v[0]}
    params = Params.parse(cleaned, names)
    params = Params(**{**params.__dict__, "limit": PAGE_SIZE})
    with db.read() as conn:
        locations = management.list_locations(db)
        zones = {loc.id: parse_zone(loc.timezone) for loc in locations}
        ids = list(params.location_ids or zones)
        rows = reads.events_page(conn, ids, params) if ids else []
    return [
        {**row._mapping, "event_time": format_local(row.event_time, zones[row.location_id])}
        for row in rows
    ], params


@router.get("/events")
async def events_page(request: Request) -> Response:
    _session(request)
    query = query_lists(request)
    filters = {
        k: (query.get(k) or [""])[0]
        for k in (
            "location_id",
            "channel_id",
            "trigger_id",
            "event_type",
            "origin",
            "since",
            "until",
        )
    }
    locations = await run_in_threadpool(management.list_locations, _db(request))
    error = None
    rows: list[dict[str, Any]] = []
    next_url = None
    try:
        rows, _params = await run_in_threadpool(_events, _db(request), query)
    except ParamError as exc:
        error = str(exc)
    if len(rows) == PAGE_SIZE:
        kept = {k: v for k, v in filters.items() if v}
        next_url = "/events?" + urlencode({**kept, "after_id": rows[-1]["id"]})
    return _render(
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


@router.get("/webhooks")
async def webhooks_page(request: Request) -> Response:
    _session(request)
    db = _db(request)
    endpoints = await run_in_threadpool(webhooks.list_endpoints, db)
    log = await run_in_threadpool(lambda: webhooks.list_deliveries(db, limit=100))
    return _render(request, "webhooks.html", "webhooks", endpoints=endpoints, deliveries=log)


@router.post("/webhooks/replay")
async def replay(request: Request) -> Response:
    form = await _form(request)
    try:
        delivery = int(form.get("delivery_id", ""))
        await run_in_threadpool(webhooks.replay, _db(request), delivery)
    except (ValueError, ServiceError) as exc:
        return _back("/webhooks", f"Not replayed: {exc}")
    return _back("/webhooks", f"Delivery {delivery} queued again.")


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
        for f in feeds.list_feeds(_db(request))
    ]


@router.get("/feeds")
async def feeds_page(request: Request, created: Any = None) -> Response:
    _session(request)
    rows = await run_in_threadpool(_feed_rows, request)
    locations = await run_in_threadpool(management.list_locations, _db(request))
    return _render(
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
    form = await _form(request)
    try:
        created = await run_in_threadpool(
            lambda: feeds.create_feed(
                _db(request),
                location_id=int(form.get("location_id", "0")),
                name=form.get("name", ""),
                metric=form.get("metric", "count"),
                triggers=tuple(t.strip() for t in form.get("triggers", "").split(",") if t.strip()),
                period=form.get("period") or "today",
                granularity=form.get("granularity") or "hour",
                coverage=form.get("coverage") == "1",
            )
        )
    except (ValueError, ServiceError) as exc:
        return _back("/feeds", f"Not created: {exc}")
    # Rendered directly: the token is stored only as a hash, so its URLs are shown once.
    base = f"{_settings(request).public_url}/feed/report/{created.token}"
    shown = {"name": created.feed.name, "json_url": base, "csv_url": f"{base}/csv"}
    return await feeds_page(request, created=shown)


@router.post("/feeds/revoke")
async def revoke_feed(request: Request) -> Response:
    form = await _form(request)
    try:
        feed_id = int(form.get("feed_id", ""))
        await run_in_threadpool(feeds.revoke_feed_by_id, _db(request), feed_id)
    except (ValueError, ServiceError) as exc:
        return _back("/feeds", f"Not revoked: {exc}")
    return _back("/feeds", "Feed revoked: its URLs now answer 404.")


@router.get("/keys")
async def keys_page(request: Request, created: Any = None) -> Response:
    _session(request)
    db = _db(request)
    keys = await run_in_threadpool(management.list_keys, db)
    accounts = await run_in_threadpool(management.list_accounts, db)
    return _render(request, "keys.html", "keys", keys=keys, accounts=accounts, created=created)


@router.post("/keys/create")
async def create_key(request: Request) -> Response:
    form = await _form(request)
    try:
        issued = await run_in_threadpool(
            management.create_key, _db(request), int(form.get("account_id", "0"))
        )
    except (ValueError, ServiceError) as exc:
        return _back("/keys", f"Not created: {exc}")
    # Rendered directly (not redirected) so the secret is shown once and never lands in a URL.
    return await keys_page(request, created=issued)


@router.post("/keys/revoke")
async def revoke_key(request: Request) -> Response:
    form = await _form(request)
    try:
        await run_in_threadpool(management.revoke_key, _db(request), form.get("public_key", ""))
    except ServiceError as exc:
        return _back("/keys", f"Not revoked: {exc}")
    return _back("/keys", f"Key {form.get('public_key')} revoked.")


@router.post("/keys/reset-nonce")
async def reset_key_nonce(request: Request) -> Response:
    """Clear a key's last nonce, recorded with who and when (docs/api.md, Nonces)."""
    form = await _form(request)
    key, by = form.get("public_key", ""), form.get("by", "")
    try:
        done = await run_in_threadpool(lambda: key_nonces.reset_nonce(_db(request), key, by=by))
    except ServiceError as exc:
        return _back("/keys", f"Nonce not cleared: {exc}")
    return _back("/keys", f"Key {key}: nonce {done.nonce_before} cleared by {done.by}.")
