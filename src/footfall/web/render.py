"""Pages rendered from the templates, with what every page shows (sign-in state, CSRF
field, the notice of the last action). Invariant: pages are never cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from footfall.web.auth import COOKIE, csrf_token
from footfall.web.gate import admin_token, signed_in

__all__ = ["render"]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


async def render(
    request: Request,
    template: str,
    page: str,
    status: int = 200,
    extra_headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    token = admin_token(request)
    cookie = request.cookies.get(COOKIE, "")
    session = token is not None and await signed_in(request)
    context = {
        "request": request,
        "page": page,
        "signed_in": session,
        "csrf": csrf_token(token, cookie) if session and token else "",
        "notice": request.query_params.get("notice"),
        **extra,
    }
    return templates.TemplateResponse(
        request,
        template,
        context,
        status_code=status,
        headers={"Cache-Control": "no-store", **(extra_headers or {})},
    )
