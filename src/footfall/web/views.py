"""The dashboard's routes, gathered for the app factory (mounted at `/`).

Every page needs a session (else a redirect to /login); every POST needs the CSRF field
(else 403); every id and form value is checked by the API's rules (else 400): web.gate
and web.values. Pages are not part of the public API, so they stay out of /openapi.json.
Each module below serves one part of the dashboard.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from footfall.web import (
    events_page,
    feed_pages,
    key_pages,
    location_pages,
    signin,
    webhook_pages,
)
from footfall.web.gate import Redirect

__all__ = ["STATIC_DIR", "Redirect", "redirect_handler", "router"]

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
for _part in (signin, location_pages, events_page, webhook_pages, feed_pages, key_pages):
    router.include_router(_part.router)


def redirect_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return exc.response
