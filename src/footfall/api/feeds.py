"""`/feed/report/{token}`: report feeds, readable without a key (docs/api.md, Report feeds).

The token is the only credential: 32 hex characters from a CSPRNG. Unknown and revoked
tokens get the same 404.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from footfall.domain.feeds import content_disposition, csv_document
from footfall.services.errors import NotFoundError
from footfall.services.feeds import Report, build_report

__all__ = ["router"]

router = APIRouter(prefix="/feed/report", tags=["report feeds"])

_NOT_FOUND = "no such feed: check the URL, or ask for a new one (feeds can be revoked)"
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown or revoked token", "content": {"text/plain": {}}},
}


async def _report(request: Request, token: str) -> Report | None:
    try:
        return await run_in_threadpool(build_report, request.app.state.db, token)
    except NotFoundError:
        return None


@router.get(
    "/{token}",
    summary="The report as JSON",
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}, **_ERRORS},
)
async def report_json(request: Request, token: str) -> Response:
    report = await _report(request, token)
    if report is None:
        return PlainTextResponse(_NOT_FOUND, status_code=404)
    return Response(msgspec.json.encode(report.as_json()), media_type="application/json")


@router.get(
    "/{token}/csv",
    summary="The report as CSV (RFC 4180, UTF-8), for spreadsheets",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **_ERRORS},
)
async def report_csv(request: Request, token: str) -> Response:
    report = await _report(request, token)
    if report is None:
        return PlainTextResponse(_NOT_FOUND, status_code=404)
    times, series = report.csv_rows()
    return Response(
        csv_document(times, series).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(report.feed.name, ".csv")},
    )
