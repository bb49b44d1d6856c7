"""What every dashboard route checks before it acts: the session, the CSRF field, values.

Invariant: a page is served only to a live session (else a redirect to /login, or to /
while the dashboard is off); a POST is acted on only with a valid CSRF field, a form
within its size cap, and no control character in any value (else 403 / 413 / 400 pages,
never a 5xx). A route that must stop early raises `Redirect` with the answer to give.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from html import escape
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from footfall.config import Settings
from footfall.services import dashboard_sessions
from footfall.services.handle import Database
from footfall.web.auth import COOKIE, csrf_token
from footfall.web.forms import FORM_LIMIT, FormRefused, read_form
from footfall.web.values import ValueRefused, control_character

__all__ = [
    "Redirect",
    "admin_token",
    "back",
    "checked_form",
    "database",
    "now_ms",
    "refused",
    "require_session",
    "settings",
    "signed_in",
]


class Redirect(Exception):
    """Stop the route and give `response` (installed as a handler by the app factory)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def now_ms(request: Request) -> int:
    clock: Callable[[], int] = request.app.state.clock
    return clock()


def admin_token(request: Request) -> str | None:
    """The operator token, or None while the dashboard is off (unset or too short)."""
    return settings(request).dashboard_token


def refused(status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Refused</title><h1>Refused</h1><p>{escape(message)}</p>",
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


def bad_value(exc: ValueRefused) -> Redirect:
    return Redirect(refused(400, str(exc)))


async def signed_in(request: Request) -> bool:
    """The request carries a live session (looked up once per request)."""
    known: bool | None = getattr(request.state, "signed_in", None)
    if known is not None:
        return known
    token = admin_token(request)
    cookie = request.cookies.get(COOKIE)
    valid = False
    if token is not None and cookie:
        db, now = database(request), now_ms(request)
        valid = await run_in_threadpool(dashboard_sessions.session_valid, db, token, cookie, now)
    request.state.signed_in = valid
    return valid


async def require_session(request: Request) -> str:
    """The operator token, once the session is checked; redirects otherwise."""
    token = admin_token(request)
    if token is None:
        raise Redirect(RedirectResponse("/", status_code=303))
    if not await signed_in(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect(RedirectResponse(f"/login?next={quote(target)}", status_code=303))
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after the session, CSRF and value checks."""
    token = await require_session(request)
    try:
        form = await read_form(request, FORM_LIMIT)
    except FormRefused as exc:
        raise Redirect(refused(exc.status, exc.message)) from None
    expected = csrf_token(token, request.cookies.get(COOKIE, ""))
    if not hmac.compare_digest(form.get("csrf", ""), expected):
        raise Redirect(
            refused(403, "This form has no valid CSRF token: reload the page and try again.")
        )
    problem = control_character(form)
    if problem is not None:
        raise Redirect(refused(400, f"Nothing was done: {problem}."))
    return form
