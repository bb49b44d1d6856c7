"""The Python SDK and `footfall api` against a real server, on both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from footfall.client import Client, FootfallError
from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import RunningServer, Site
from tests.helpers import event, ok, post_events, put_config


@pytest.fixture
def client(server: RunningServer, site: Site) -> Iterator[Client]:
    with Client(server.url, site.public_key, site.secret) as api:
        yield api


def test_a_method_per_endpoint(http: httpx.Client, site: Site, client: Client) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 4)]))
    assert [x["id"] for x in client.locations()] == [site.location_id]
    assert len(client.channels(location_id=site.location_id)) == 2
    assert len(client.triggers(channel_id=["cam-door"])) == 2
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert [e["record_id"] for e in client.events(since=since, limit=2)] == [1, 2]
    assert client.totals_by_trigger(location_id=[site.location_id]) == [
        {
            "trigger_name": "Enter",
            "trigger_id": "t-enter",
            "count": 3,
            "channel_id": "cam-door",
            "location_id": site.location_id,
        }
    ]
    assert client.totals_by_type(origin="Pedestrian")[0]["count"] == 3
    assert client.histograms() == []
    with pytest.raises(FootfallError) as refused:
        client.events(location_id=999)
    assert (refused.value.status, refused.value.code) == (404, 5)


def test_paging_iterator_returns_every_event_once(
    http: httpx.Client, site: Site, client: Client
) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 2501)]))
    seen = [e["record_id"] for e in client.iter_events(limit=1000)]
    assert seen == list(range(1, 2501))
    assert [e["record_id"] for e in client.iter_events(limit=7, trigger_id="t-enter")][:3] == [
        1,
        2,
        3,
    ]


def test_nonces_increase_across_threads(client: Client) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [client.next_nonce() for _ in range(2000)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == len(results) == 8000

    # Concurrent signed requests from one client all pass the nonce check.
    failures: list[Exception] = []

    def call() -> None:
        try:
            client.locations()
        except FootfallError as exc:
            failures.append(exc)

    callers = [threading.Thread(target=call) for _ in range(8)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    # A later nonce may overtake an earlier one on the wire; the SDK resends those.
    assert failures == []


class _CountingTransport(httpx.HTTPTransport):
    """Counts the statuses the server answered, under the SDK's retry logic."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = super().handle_request(request)
        self.statuses.append(answer.status_code)
        return answer


def test_the_sdk_waits_out_429(settings: Settings, db: Database, site: Site) -> None:
    limited = Settings(database_url=settings.database_url, rate_limit=2)
    wire = _CountingTransport()
    with (
        RunningServer(limited, db) as server,
        Client(server.url, site.public_key, site.secret, transport=wire) as client,
    ):
        for _ in range(4):
            assert [x["id"] for x in client.locations()] == [site.location_id]
    # Four back-to-back calls at 2/s: the server refused some, and the SDK waited them out.
    assert 429 in wire.statuses
    assert wire.statuses.count(200) == 4


def test_footfall_api_command(server: RunningServer, http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 4)]))
    env = {
        **os.environ,
        "FOOTFALL_API_URL": server.url,
        "FOOTFALL_API_KEY": site.public_key,
        "FOOTFALL_API_SECRET": site.secret,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "footfall", "api", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    events = run("events", "--location-id", str(site.location_id), "--limit", "2")
    assert events.returncode == 0, events.stderr
    assert [e["record_id"] for e in json.loads(events.stdout)] == [1, 2]
    totals = run("totals/triggers", "--since=2000-01-01T00:00Z")
    assert json.loads(totals.stdout)[0]["count"] == 3
    everything = run("events", "--all", "--limit", "1")
    assert len(json.loads(everything.stdout)) == 3
    refused = run("events", "--limit", "0")
    assert refused.returncode == 1
    assert "parameter 'limit'" in refused.stderr
    unknown = run("people")
    assert unknown.returncode == 1
    assert "unknown endpoint 'people'" in unknown.stderr
    no_key = subprocess.run(
        [sys.executable, "-m", "footfall", "api", "locations"],
        env={k: v for k, v in env.items() if k != "FOOTFALL_API_SECRET"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_key.returncode == 1
    assert "FOOTFALL_API_SECRET" in no_key.stderr
