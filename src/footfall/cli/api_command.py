"""`footfall api ENDPOINT [--param value ...]`: a signed read-API request from the shell.

The server and key come from FOOTFALL_API_URL, FOOTFALL_API_KEY and FOOTFALL_API_SECRET.
Parameters are written as options: `--location-id 1 --since 2026-11-24T00:00Z`.
"""

from __future__ import annotations

import json
import os
from typing import Annotated

import httpx
import typer

from footfall.cli.output import fail
from footfall.client import Client, FootfallError

__all__ = ["ENDPOINTS", "api"]

ENDPOINTS = (
    "locations",
    "channels",
    "triggers",
    "events",
    "totals/triggers",
    "totals/types",
    "histograms",
)


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
        fail(f"--{pending} needs a value")
    return params


def api(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help=f"One of: {', '.join(ENDPOINTS)}.")],
    all_pages: Annotated[
        bool, typer.Option("--all", help="Follow after_id through every page (events, histograms).")
    ] = False,
) -> None:
    """Send a signed request to the read API and print the result as JSON."""
    path = endpoint.strip("/")
    if path not in ENDPOINTS:
        fail(f"unknown endpoint {endpoint!r}: expected one of {', '.join(ENDPOINTS)}")
    settings = {
        name: os.environ.get(name)
        for name in ("FOOTFALL_API_URL", "FOOTFALL_API_KEY", "FOOTFALL_API_SECRET")
    }
    missing = [name for name, value in settings.items() if not value]
    if missing:
        fail(f"set {', '.join(missing)} (the server URL, public key and secret)")
    params = _pairs(list(ctx.args))
    with Client(
        str(settings["FOOTFALL_API_URL"]),
        str(settings["FOOTFALL_API_KEY"]),
        str(settings["FOOTFALL_API_SECRET"]),
    ) as client:
        try:
            if all_pages and path in ("events", "histograms"):
                pages = client.iter_events if path == "events" else client.iter_histograms
                result = list(pages(**params))
            else:
                result = client.get(f"/{path}", params)
        except FootfallError as exc:
            fail(exc.message + f" (HTTP {exc.status}, code {exc.code})")
        except httpx.TransportError as exc:
            fail(f"cannot reach {settings['FOOTFALL_API_URL']}: {exc}")
    print(json.dumps(result, indent=2))
