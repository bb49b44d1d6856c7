"""Probes for supervisors and orchestrators.

- `GET /healthz`: the process is alive and serving (touches nothing else), for liveness
  probes and the container HEALTHCHECK;
- `GET /readyz`: the database answers and its schema is the one this code expects (200),
  else 503 saying why, for readiness probes and load balancers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from footfall import __version__
from footfall.root import Database
from footfall.services.observability import readiness

__all__ = ["router"]

router = APIRouter(tags=["health"])

_READY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "database", "schema_version"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "database": {"type": "string"},
        "schema_version": {"type": ["string", "null"]},
        "problem": {"type": "string"},
    },
}


@router.get("/healthz", summary="Liveness: the server process is up")
async def healthz(request: Request) -> dict[str, Any]:
    database: Database = request.app.state.db
    return {"status": "ok", "database": database.dialect, "version": __version__}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and its schema is current",
    responses={
        200: {"content": {"application/json": {"schema": _READY_SCHEMA}}},
        503: {
            "description": "Not ready: `problem` says why",
            "content": {"application/json": {"schema": _READY_SCHEMA}},
        },
    },
)
async def readyz(request: Request) -> Response:
    database: Database = request.app.state.db
    state = await run_in_threadpool(readiness, database)
    body: dict[str, Any] = {
        "status": "ready" if state.ready else "unavailable",
        "database": database.dialect,
        "schema_version": state.schema_version,
    }
    if state.problem is not None:
        body["problem"] = state.problem
    return JSONResponse(body, status_code=200 if state.ready else 503)
