"""`footfall api ENDPOINT [--param value ...]`: a signed read-API request from the shell.

Invariant: the endpoints, their parameters and the help come from the table the server
and its OpenAPI document are generated from (`read_endpoints.ENDPOINTS`,
`read_params.PARAMETERS`): every GET endpoint of the document is offered here, with the
same descriptions, and a value is checked by the server's own parser before it is sent.
The server and key come from FOOTFALL_API_URL, FOOTFALL_API_KEY and FOOTFALL_API_SECRET;
the nonce is microseconds since the epoch (docs/api.md: one key per client).
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import httpx
import typer

from footfall.cli.output import fail
from footfall.client import Client, FootfallError
from footfall.domain.read_endpoints import ENDPOINTS, Endpoint
from footfall.domain.read_params import PARAMETERS, ParamError

__all__ = ["ENDPOINTS_BY_NAME", "api"]

ENDPOINTS_BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def _help() -> str:
    """The command's help: every endpoint with its parameters, from the shared table."""
    lines = [
        "Send a signed request to the read API and print the result as JSON.",
        "",
        "Set FOOTFALL_API_URL, FOOTFALL_API_KEY and FOOTFALL_API_SECRET. Write parameters "
        "as options (`footfall api events --location-id 1 --since 2026-11-24T00:00Z`); "
        "lists are comma-separated.",
        "",
        "Endpoints:",
    ]
    for endpoint in ENDPOINTS:
        lines.append(f"\b\n{endpoint.name}: {endpoint.summary}")
        for name in endpoint.params:
            option = "--" + name.replace("_", "-")
            lines.append(f"  {option} {PARAMETERS[name].description}")
    return "\n".join(lines)


def _pairs(args: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    pending: str | None = None
    for arg in args:
        if pending is None:
            if not arg.startswith("--") or len(arg) < 3:
                fail(f"unexpected argument {arg!r}: write parameters as --name value")
            name, eq, value = arg[2:].partition("=")
            name = name.replace("-", "_")
            if eq:
                params[name] = value
            else:
                pending = name
        else:
            params[pending] = arg
            pending = None
    if pending is not None:
        fail(f"--{pending.replace('_', '-')} needs a value")
    return params


def _checked(endpoint: Endpoint, params: dict[str, str]) -> dict[str, str]:
    """The parameters, each known to the endpoint and read by the server's own parser."""
    for name, value in params.items():
        if name not in endpoint.params:
            known = ", ".join("--" + p.replace("_", "-") for p in endpoint.params) or "none"
            fail(f"{endpoint.name} takes no --{name.replace('_', '-')} (parameters: {known})")
        try:
            PARAMETERS[name].parse(name, value)
        except ParamError as exc:
            fail(str(exc))
    return params


def _all_pages(client: Client, endpoint: Endpoint, params: dict[str, str]) -> list[Any]:
    """Follow `after_id` until a page comes back short (ascending ids never miss one)."""
    limit = int(params.get("limit", "1000"))
    after = params.get("after_id", "0")
    found: list[Any] = []
    while True:
        page = client.get(endpoint.path, {**params, "after_id": after, "limit": str(limit)})
        found.extend(page)
        if len(page) < limit:
            return found
        after = str(page[-1]["id"])


def api(
    ctx: typer.Context,
    endpoint: Annotated[
        str, typer.Argument(help=f"One of: {', '.join(ENDPOINTS_BY_NAME)}.", show_default=False)
    ],
    all_pages: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Follow after_id through every page ("
            + ", ".join(e.name for e in ENDPOINTS if e.pages)
            + ").",
        ),
    ] = False,
) -> None:
    chosen = ENDPOINTS_BY_NAME.get(endpoint.strip("/"))
    if chosen is None:
        fail(f"unknown endpoint {endpoint!r}: expected one of {', '.join(ENDPOINTS_BY_NAME)}")
    settings = {
        name: os.environ.get(name)
        for name in ("FOOTFALL_API_URL", "FOOTFALL_API_KEY", "FOOTFALL_API_SECRET")
    }
    missing = [name for name, value in settings.items() if not value]
    if missing:
        fail(f"set {', '.join(missing)} (the server URL, public key and secret)")
    params = _checked(chosen, _pairs(list(ctx.args)))
    with Client(
        str(settings["FOOTFALL_API_URL"]),
        str(settings["FOOTFALL_API_KEY"]),
        str(settings["FOOTFALL_API_SECRET"]),
    ) as client:
        try:
            if all_pages and chosen.pages:
                result = _all_pages(client, chosen, params)
            else:
                result = client.get(chosen.path, params)
        except FootfallError as exc:
            fail(exc.message + f" (HTTP {exc.status}, code {exc.code})")
        except httpx.TransportError as exc:
            fail(f"cannot reach {settings['FOOTFALL_API_URL']}: {exc}")
    print(json.dumps(result, indent=2))


api.__doc__ = _help()
