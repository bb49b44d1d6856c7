"""Signing in and out of the dashboard.

Invariant: a sign-in attempt from an address in back-off is refused unchecked (429 with
Retry-After), so guesses meanwhile are worthless; the right token opens a new random
session (services.dashboard_sessions) whatever other addresses did; signing out deletes
the session, so its cookie opens nothing afterwards. The client address is the peer's, or
what a configured proxy says (footfall.forwarded).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from footfall.services import dashboard_sessions
from footfall.web.auth import COOKIE, token_matches
from footfall.web.forms import LOGIN_LIMIT, FormRefused, read_form
from footfall.web.gate import admin_token, checked_form, database, now_ms, refused, settings
from footfall.web.render import render
from footfall.web.throttle import LoginThrottle

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def _safe_target(target: str) -> str:
    """Only a path on this server (no other host, no backslash tricks)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    if admin_token(request) is None:
        return RedirectResponse("/", status_code=303)
    return await render(request, "login.html", "login", next=_safe_target(next), error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    token = admin_token(request)
    if token is None:
        return RedirectResponse("/", status_code=303)
    address = request.client.host if request.client else "unknown"
    throttle = _throttle(request)
    wait = throttle.retry_after(address)
    if wait is not None:  # refused unchecked, so guesses during the back-off are worthless
        return await render(
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
        return refused(exc.status, exc.message)
    target = _safe_target(form.get("next", "/"))
    if not token_matches(token, form.get("token", "")):
        throttle.failed(address)
        return await render(
            request,
            "login.html",
            "login",
            status=401,
            next=target,
            error="That is not this server's operator token. Check "
            "FOOTFALL_ADMIN_TOKEN (footfall demo prints it) and try again.",
        )
    throttle.succeeded(address)
    cookie = await run_in_threadpool(
        dashboard_sessions.open_session, database(request), token, now_ms(request)
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=dashboard_sessions.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        # Behind a TLS proxy the request itself is http: FOOTFALL_PUBLIC_URL says https.
        secure=settings(request).secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    await run_in_threadpool(
        dashboard_sessions.close_session, database(request), request.cookies.get(COOKIE)
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
