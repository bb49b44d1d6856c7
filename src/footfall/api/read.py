"""`/service/api/v1`: the Camlytics-compatible read API (docs/api.md, The read API).

The routes are registered from `read_endpoints.ENDPOINTS`, the table the OpenAPI document
and `footfall api` are generated from. `authenticate` is the one dependency every
endpoint takes: it runs the key, signature, throttle and nonce checks in the documented
order; the endpoint then parses its own parameters (code 4) and resolves locations
(code 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from footfall import logs
from footfall.domain.read_endpoints import ENDPOINTS, Endpoint
from footfall.domain.read_params import ParamError, Params
from footfall.services.errors import NotFoundError
from footfall.services.read_auth import ApiCaller, AuthFailure, authenticate_request
from footfall.services.reads import ReadApi

from .envelope import Code, error, success
from .openapi_doc import read_operation

__all__ = ["ApiError", "api_error_handler", "router"]

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


def _params(request: Request, names: Sequence[str]) -> Params:
    try:
        return Params.parse(query_lists(request), names)
    except ParamError as exc:
        raise ApiError(400, Code.PARAMETER, str(exc)) from None


def _answer(produce: Callable[[], Sequence[Any]]) -> Response:
    try:
        return success(produce())
    except NotFoundError as exc:
        raise ApiError(404, Code.LOCATION, str(exc)) from None
    except ParamError as exc:  # a cross-parameter rule (the size of a coverage answer)
        raise ApiError(400, Code.PARAMETER, str(exc)) from None


def _reads(request: Request) -> ReadApi:
    api: ReadApi = request.app.state.reads
    return api


# endpoint path -> what answers it, given the service, the account and the parameters
_SERVICES: dict[str, Callable[[ReadApi, int, Params], Sequence[Any]]] = {
    "/locations": lambda api, account, _params: api.locations(account),
    "/channels": ReadApi.channels,
    "/triggers": ReadApi.triggers,
    "/events": ReadApi.events,
    "/totals/triggers": ReadApi.totals_by_trigger,
    "/totals/types": ReadApi.totals_by_type,
    "/histograms": ReadApi.histograms,
    "/occupancy": ReadApi.occupancy,
    "/queues": ReadApi.queues,
    "/coverage": ReadApi.coverage,
}


def _route(endpoint: Endpoint) -> Callable[[Request, ApiCaller], Response]:
    serve = _SERVICES[endpoint.path]

    def answer(request: Request, caller: CallerDep) -> Response:
        params = _params(request, endpoint.params)
        return _answer(lambda: serve(_reads(request), caller.account_id, params))

    answer.__name__ = endpoint.name.replace("/", "_")
    return answer


for _endpoint in ENDPOINTS:
    router.add_api_route(
        _endpoint.path,
        _route(_endpoint),
        methods=["GET"],
        summary=_endpoint.summary,
        operation_id=_endpoint.name.replace("/", "_"),
        **read_operation(_endpoint),
    )
