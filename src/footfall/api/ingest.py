"""`/ingest/v1`: the edge agent's surface (docs/api.md, The ingest API), authenticated by a bearer
token.

The body is read with a hard cap before anything is decoded, and all database work runs
in the thread pool so the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall import logs, telemetry
from footfall.domain.agent_config import ConfigIn
from footfall.domain.heartbeats import HeartbeatIn
from footfall.domain.ingest import MAX_BODY_BYTES, EventIn
from footfall.services.ingest import (
    BatchResult,
    ConfigChanged,
    DecodedBatch,
    Ingest,
    IngestLocation,
    Rejected,
)

from .envelope import Code, error, success

__all__ = ["OPENAPI_COMPONENTS", "Unauthorized", "router", "unauthorized_handler"]

router = APIRouter(prefix="/ingest/v1", tags=["ingest"])


class Unauthorized(Exception):
    """No valid ingest token; answered 401 code 1 by `unauthorized_handler`."""


class _TooLarge(Exception):
    def __init__(self, size: int, *, at_least: bool) -> None:
        super().__init__(size)
        self.size = size
        self.at_least = at_least


def _ingest(request: Request) -> Ingest:
    service: Ingest = request.app.state.ingest
    return service


async def _location(request: Request) -> IngestLocation:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <ingest token>'")
    service = _ingest(request)
    location = service.cached_location(token.strip()) or await run_in_threadpool(
        service.authenticate, token.strip()
    )
    if location is None:
        raise Unauthorized(
            "unknown ingest token: use the token printed by `footfall locations create`"
        )
    logs.bind_location(location.id)
    return location


LocationDep = Annotated[IngestLocation, Depends(_location)]


async def _read_body(request: Request, cap: int = MAX_BODY_BYTES) -> bytes:
    """The body, read no further than `cap` bytes (refused on its declared length alone
    when that is beyond)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _TooLarge(int(declared), at_least=False)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _TooLarge(size, at_least=True)
        chunks.append(chunk)
    return b"".join(chunks)


def _builtins(value: object) -> Any:
    return msgspec.to_builtins(value)


def _rejected(exc: Rejected) -> Response:
    problems = _builtins(exc.problems) if exc.problems else []
    return error(exc.status, Code.PARAMETER, exc.message, problems)


def _envelope_schema(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["msg", "result", "code"],
        "properties": {"msg": {"type": "string"}, "result": result, "code": {"type": "integer"}},
    }


_PROBLEMS = {"type": "array", "items": {"type": "object"}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    "400": {"description": "The body is not JSON, or not of the expected shape (code 4)"},
    "401": {"description": "Missing or unknown ingest token (code 1)"},
    "413": {"description": "More than 10,000 events or more than 16 MiB (code 4)"},
    "422": {
        "description": "Invalid content; `result` lists every problem (code 4)",
        "content": {"application/json": {"schema": _envelope_schema(_PROBLEMS)}},
    },
}
(_EVENTS_SCHEMA, _CONFIG_SCHEMA, _HEARTBEAT_SCHEMA), OPENAPI_COMPONENTS = (
    msgspec.json.schema_components(
        [list[EventIn], ConfigIn, HeartbeatIn], ref_template="#/components/schemas/{name}"
    )
)


@router.put(
    "/config",
    summary="Declare the agent's version, time zone, channels and triggers",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _CONFIG_SCHEMA}},
        },
        "security": [{"IngestToken": []}],
    },
    responses={
        200: {
            "description": "The location's zone and active channel/trigger counts",
            "content": {"application/json": {"schema": _envelope_schema({"type": "object"})}},
        },
        **_ERRORS,
    },
)
async def put_config(request: Request, location: LocationDep) -> Response:
    service = _ingest(request)
    try:
        # The location's config-size limit first: an oversized declaration is refused
        # before it is read whole, let alone decoded (docs/operations.md, Limits).
        body = await _read_body(request, service.limits.max_body_bytes)
        result = await run_in_threadpool(service.put_config, location, body)
    except _TooLarge as exc:
        await run_in_threadpool(service.mark_seen, location.id)
        problem = service.limits.body_problem(exc.size, at_least=exc.at_least)
        assert problem is not None  # beyond the cap, by construction
        return error(
            422, Code.PARAMETER, f"{problem.message}; nothing was changed", [_builtins(problem)]
        )
    except Rejected as exc:
        return _rejected(exc)
    return success(
        {
            "location_id": result.location_id,
            "timezone": result.timezone,
            "channels": result.channels,
            "triggers": result.triggers,
        }
    )


@router.post(
    "/events",
    summary="Push a batch of up to 10,000 events (atomic, idempotent on record_id)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _EVENTS_SCHEMA}},
        },
        "security": [{"IngestToken": []}],
    },
    responses={
        200: {
            "description": "How many events were stored and how many were duplicates",
            "content": {"application/json": {"schema": _envelope_schema({"type": "object"})}},
        },
        **_ERRORS,
    },
)
async def post_events(request: Request, location: LocationDep) -> Response:
    service = _ingest(request)
    decoded = None
    try:
        body = await _read_body(request)
        decoded = service.decode(location, body)
        result = await _store_batch(service, location, decoded)
    except _TooLarge:
        await run_in_threadpool(service.mark_seen, location.id)
        return error(
            413,
            Code.PARAMETER,
            f"the body exceeds {MAX_BODY_BYTES} bytes: send at most 10,000 events per request",
        )
    except Rejected as exc:
        telemetry.count_ingest(rejected=len(decoded.events) if decoded is not None else 0)
        await run_in_threadpool(service.mark_seen, location.id)
        return _rejected(exc)
    telemetry.count_ingest(
        accepted=result.accepted,
        duplicates=result.duplicates,
        location_id=location.id,
        stored_by_type=result.stored_by_type,
    )
    return success({"accepted": result.accepted, "duplicates": result.duplicates})


@router.post(
    "/heartbeat",
    summary="Report each channel's liveness (Footfall extension: coverage)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _HEARTBEAT_SCHEMA}},
        },
        "security": [{"IngestToken": []}],
    },
    responses={
        200: {
            "description": "How many heartbeats were recorded",
            "content": {"application/json": {"schema": _envelope_schema({"type": "object"})}},
        },
        **_ERRORS,
    },
)
async def post_heartbeat(request: Request, location: LocationDep) -> Response:
    service = _ingest(request)
    try:
        body = await _read_body(request)
        result = await run_in_threadpool(service.post_heartbeat, location, body)
    except _TooLarge:
        await run_in_threadpool(service.mark_seen, location.id)
        return error(413, Code.PARAMETER, f"the body exceeds {MAX_BODY_BYTES} bytes")
    except Rejected as exc:
        return _rejected(exc)
    return success({"accepted": result.accepted})


async def _store_batch(
    service: Ingest, location: IngestLocation, decoded: DecodedBatch
) -> BatchResult:
    # Decoding and checking are pure CPU (msgspec, then a tight loop): they run right here
    # on the event loop, which is cheaper than a thread hop and leaves the writer thread
    # alone with SQLite. Only a cold trigger cache needs the database, in the pool.
    version = location.config_version
    while True:
        try:
            if service.triggers_cached(location.id, version):
                checked = service.check(decoded, version)
            else:
                checked = await run_in_threadpool(service.check, decoded, version)
        except Rejected as refused:
            if refused.status != 422:
                raise
            # Refused against the cached config: final only against the current one.
            checked = await run_in_threadpool(service.recheck, decoded, version)
        try:
            return await asyncio.wrap_future(service.submit(checked))
        except ConfigChanged as changed:
            version = changed.version


def unauthorized_handler(_request: Request, exc: Exception) -> Response:
    return error(401, Code.KEY, str(exc), headers={"WWW-Authenticate": "Bearer"})
