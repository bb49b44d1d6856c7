"""`/service/api/v1`: the Camlytics-compatible read API (SPEC §4).

`authenticate` is the one dependency every endpoint takes: it runs the key, signature,
throttle and nonce checks in the specified order; the endpoint then parses its own
parameters (code 4) and resolves locations (code 5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from footfall import logs
from footfall.domain.read_params import ParamError, Params
from footfall.services.errors import NotFoundError
from footfall.services.read_auth import ApiCaller, AuthFailure, authenticate_request
from footfall.services.reads import ReadApi

from .envelope import Code, error, success
from .read_schemas import PARAMETERS, SECURITY_SCHEMES, responses

__all__ = ["SECURITY_SCHEMES", "ApiError", "api_error_handler", "router"]

router = APIRouter(prefix="/service/api/v1", tags=["read API (Camlytics v1)"])


class ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def api_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.code, exc.message, headers=exc.headers)


def _request_uri(request: Request) -> str:
    """The URI as the client sent it: raw path, and the raw query string if any."""
    raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope.get("query_string", b"")
    uri = raw_path + (b"?" + query if query else b"")
    return uri.decode("latin-1")


def authenticate(request: Request) -> ApiCaller:
    nonces = request.query_params.getlist("nonce")
    try:
        caller = authenticate_request(
            request.app.state.db,
            public_key=request.headers.get("x-key"),
            signature=request.headers.get("x-sign"),
            uri=_request_uri(request),
            nonce_text=nonces[0] if len(nonces) == 1 else None,
            rate_limit=request.app.state.settings.rate_limit,
        )
    except AuthFailure as failure:
        headers = None
        if failure.retry_after is not None:
            headers = {"Retry-After": str(failure.retry_after)}
        raise ApiError(failure.status, failure.code, failure.message, headers) from None
    logs.bind_key(caller.key_id)
    return caller


CallerDep = Annotated[ApiCaller, Depends(authenticate)]


def query_lists(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all its values (repeats are an error for the caller)."""
    query: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        query.setdefault(name, []).append(value)
    return query


def _params(request: Request, names: frozenset[str]) -> Params:
    try:
        return Params.parse(query_lists(request), names)
    except ParamError as exc:
        raise ApiError(400, Code.PARAMETER, str(exc)) from None


def _answer(produce: Callable[[], list[dict[str, Any]]]) -> Response:
    try:
        return success(produce())
    except NotFoundError as exc:
        raise ApiError(404, Code.LOCATION, str(exc)) from None


def _reads(request: Request) -> ReadApi:
    api: ReadApi = request.app.state.reads
    return api


def _doc(item: str, params: tuple[str, ...], summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": responses(item),
        "openapi_extra": {
            "parameters": [PARAMETERS["nonce"], *(PARAMETERS[p] for p in params)],
            "security": [{"XKey": [], "XSign": []}],
        },
    }


_CHANNEL = frozenset({"location_id"})
_TRIGGER = frozenset({"location_id", "channel_id"})
_EVENT = frozenset(
    {
        "location_id",
        "channel_id",
        "trigger_id",
        "event_type",
        "origin",
        "since",
        "until",
        "after_id",
        "limit",
    }
)
_TOTAL_TRIGGER = frozenset(
    {
        "location_id",
        "channel_id",
        "trigger_id",
        "event_type",
        "origin",
        "since",
        "until",
        "updated_since",
    }
)
_TOTAL_TYPE = frozenset({"location_id", "channel_id", "origin", "since", "until", "updated_since"})
_LIVE = frozenset({"location_id"})
_COVERAGE = frozenset({"location_id", "channel_id", "since", "until"})
_HISTOGRAM = frozenset(
    {
        "location_id",
        "channel_id",
        "trigger_id",
        "since",
        "until",
        "after_id",
        "limit",
        "updated_since",
    }
)


def _ordered(names: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in PARAMETERS if name in names)


@router.get("/locations", **_doc("Location", (), "The locations of this key's account"))
def locations(request: Request, caller: CallerDep) -> Response:
    return _answer(lambda: _reads(request).locations(caller.account_id))


@router.get("/channels", **_doc("Channel", _ordered(_CHANNEL), "Channels (cameras)"))
def channels(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _CHANNEL)
    return _answer(lambda: _reads(request).channels(caller.account_id, params))


@router.get("/triggers", **_doc("Trigger", _ordered(_TRIGGER), "Line, zone and scene triggers"))
def triggers(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _TRIGGER)
    return _answer(lambda: _reads(request).triggers(caller.account_id, params))


@router.get(
    "/events",
    **_doc("Event", _ordered(_EVENT), "Events in ascending id order (page with after_id)"),
)
def events(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _EVENT)
    return _answer(lambda: _reads(request).events(caller.account_id, params))


@router.get(
    "/totals/triggers",
    **_doc("EventTotalByTrigger", _ordered(_TOTAL_TRIGGER), "Event counts per trigger"),
)
def totals_by_trigger(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _TOTAL_TRIGGER)
    return _answer(lambda: _reads(request).totals_by_trigger(caller.account_id, params))


@router.get(
    "/totals/types",
    **_doc("EventTotalByType", _ordered(_TOTAL_TYPE), "Event counts per channel and type"),
)
def totals_by_type(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _TOTAL_TYPE)
    return _answer(lambda: _reads(request).totals_by_type(caller.account_id, params))


@router.get(
    "/histograms",
    **_doc("Histogram", _ordered(_HISTOGRAM), "Hourly occupancy and dwell of zone triggers"),
)
def histograms(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _HISTOGRAM)
    return _answer(lambda: _reads(request).histograms(caller.account_id, params))


@router.get(
    "/occupancy",
    **_doc("Occupancy", _ordered(_LIVE), "Live occupancy counters (Footfall extension)"),
)
def occupancy(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _LIVE)
    return _answer(lambda: _reads(request).occupancy(caller.account_id, params))


@router.get(
    "/queues",
    **_doc("Queue", _ordered(_LIVE), "Live queue length and wait time (Footfall extension)"),
)
def queues(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _LIVE)
    return _answer(lambda: _reads(request).queues(caller.account_id, params))


@router.get(
    "/coverage",
    **_doc(
        "Coverage",
        _ordered(_COVERAGE),
        "Covered seconds per channel and hour, from heartbeats (Footfall extension)",
    ),
)
def coverage(request: Request, caller: CallerDep) -> Response:
    params = _params(request, _COVERAGE)
    try:
        return _answer(lambda: _reads(request).coverage(caller.account_id, params))
    except ParamError as exc:
        raise ApiError(400, Code.PARAMETER, str(exc)) from None
