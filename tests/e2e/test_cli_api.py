"""`footfall api` offers every GET endpoint of the running server's OpenAPI document, with
its parameters: the test walks the document and calls each one through the CLI (a real
process) against a real server with every parameter the document lists (its example
values), on both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer, Site
from tests.helpers import event, ok, post_events, put_config

pytestmark = pytest.mark.slow
PREFIX = "/service/api/v1"


def _cli(server: RunningServer, site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FOOTFALL_API_URL": server.url,
        "FOOTFALL_API_KEY": site.public_key,
        "FOOTFALL_API_SECRET": site.secret,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "footfall", "api", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _option(parameter: dict[str, Any], site: Site) -> list[str]:
    """`--name value` from the document's parameter (its example, in command-line form)."""
    name = parameter["name"]
    value = parameter["example"]
    if name == "location_id":
        value = [site.location_id]
    text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return [f"--{name.replace('_', '-')}", text]


def test_the_cli_calls_every_get_endpoint_of_the_document(
    server: RunningServer, http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 6)]))
    document = http.get("/openapi.json").json()
    endpoints = {
        path.removeprefix(PREFIX + "/"): item["get"]
        for path, item in document["paths"].items()
        if path.startswith(PREFIX) and "get" in item
    }
    assert len(endpoints) == 10
    help_text = _cli(server, site, "--help").stdout
    called = []
    for name, operation in endpoints.items():
        assert f"{name}: {operation['summary']}" in help_text
        parameters = [p for p in operation["parameters"] if p["name"] != "nonce"]
        options = [o for p in parameters for o in _option(p, site)]
        for p in parameters:  # --help gives each parameter with the document's description
            assert f"--{p['name'].replace('_', '-')} {p['description']}" in help_text
        answer = _cli(server, site, name, *options)
        assert answer.returncode == 0, (name, options, answer.stderr)
        assert isinstance(json.loads(answer.stdout), list), name
        called.append(name)
    print("\nfootfall api called:", ", ".join(called))
    everything = json.loads(_cli(server, site, "events", "--all", "--limit", "2").stdout)
    assert [e["record_id"] for e in everything] == [1, 2, 3, 4, 5]
    refused = _cli(server, site, "occupancy", "--since", "2026-11-24T00:00Z")
    assert refused.returncode == 1
    assert "occupancy takes no --since (parameters: --location-id)" in refused.stderr
