"""`/metrics` (parsed with prometheus_client's own parser), `/healthz`, `/readyz`, and the
JSON logs with request and location ids, on both engines."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from footfall.api.app import create_app
from footfall.api.metrics import DatabaseCollector
from footfall.config import Settings
from footfall.domain.histogram import hour_start
from footfall.logs import JsonFormatter
from footfall.services import management, webhooks
from footfall.services.analytics import compute_histograms
from footfall.store.db import Database
from tests.conftest import PG_SECRET_KEY, RunningServer, Site
from tests.helpers import (
    Signer,
    bearer,
    event,
    ingest_directly,
    iso,
    ok,
    post_events,
    put_config,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(http: httpx.Client, **headers: str) -> Samples:
    answer = http.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_ingest_counters_move_by_exactly_what_was_ingested(http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    before = scrape(http)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 6)]))
    ok(post_events(http, site.ingest_token, [event(i) for i in range(4, 9)]))  # 2 repeated
    bad = [event(20), event(21, trigger="t-nope"), event(22)]
    assert post_events(http, site.ingest_token, bad).status_code == 422
    assert post_events(http, site.ingest_token, []).status_code == 200
    after = scrape(http)

    total = "footfall_ingest_events_total"
    assert moved(before, after, total, outcome="accepted") == 8
    assert moved(before, after, total, outcome="duplicate") == 2
    assert moved(before, after, total, outcome="rejected") == 3
    requests = "footfall_http_request_duration_seconds_count"
    route = {"route": "/ingest/v1/events", "method": "POST"}
    assert moved(before, after, requests, **route, status="200") == 3
    assert moved(before, after, requests, **route, status="422") == 1
    assert value(after, "footfall_database_up") == 1
    assert value(after, "footfall_locations_online") == 1
    for gauge in ("footfall_webhook_deliveries_pending", "footfall_analytics_lag_seconds"):
        assert (gauge, ()) in after
    assert ("footfall_webhook_delivery_seconds_count", ()) in after


def test_unknown_paths_share_one_route_label(http: httpx.Client) -> None:
    for path in ("/nope/1", "/nope/2", "/feed/report/0123"):
        http.get(path)
    samples = scrape(http)
    routes = {dict(labels).get("route") for (_, labels) in samples if labels}
    assert "unmatched" in routes
    assert "/feed/report/{token}" in routes
    assert not any(r and r.startswith("/nope") for r in routes)


def test_the_metrics_token_is_required_when_set(db_url: str, db: Database) -> None:
    settings = Settings(database_url=db_url, rate_limit=0, metrics_token="scrape-me")
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-me"}):
            answer = http.get("/metrics", headers=headers)
            assert answer.status_code == 401
            assert "FOOTFALL_METRICS_TOKEN" in answer.text
        assert ("footfall_database_up", ()) in scrape(http, Authorization="Bearer scrape-me")


def test_database_gauges(db: Database, site: Site) -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    three_hours_ago = datetime.fromtimestamp(now / 1000, UTC) - timedelta(hours=3)
    webhooks.create_endpoint(db, location_id=site.location_id, url="https://example.com/hook")
    ingest_directly(
        db,
        site.location_id,
        [event(1, trigger="t-shelf", event_type="RegionJoin", when=three_hours_ago)],
        [event(2, trigger="t-shelf", event_type="RegionLeave", when=three_hours_ago)],
    )

    def gauges(at: int) -> dict[str, float]:
        return {
            family.name: family.samples[0].value
            for family in DatabaseCollector(db, clock=lambda: at).collect()
        }

    first_hour_end = hour_start(UTC, int(three_hours_ago.timestamp() * 1000)) + 3_600_000
    assert gauges(now) == {
        "footfall_database_up": 1,
        "footfall_webhook_deliveries_pending": 2,  # one per batch, no dispatcher running
        "footfall_analytics_lag_seconds": (now - first_hour_end) / 1000,
        # the one location
        "footfall_analytics_location_lag_seconds": (now - first_hour_end) / 1000,
        "footfall_locations_online": 1,
    }
    # Ten minutes on, after the job has run (it runs every minute): another hour may have
    # ended meanwhile, and the job has computed it too.
    compute_histograms(db, clock=lambda: now + 10 * 60_000)
    later = gauges(now + 10 * 60_000)
    assert later["footfall_analytics_lag_seconds"] == 0
    assert later["footfall_analytics_location_lag_seconds"] == 0
    assert later["footfall_locations_online"] == 0  # not seen for 10 minutes


def test_health_and_readiness(http: httpx.Client, engine: str) -> None:
    alive = http.get("/healthz")
    assert alive.status_code == 200
    assert alive.json()["status"] == "ok"
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["database"] == engine
    assert ready.json()["schema_version"]


def test_not_ready_on_a_database_without_the_current_schema(tmp_path: Path) -> None:
    # The secrets' key is there (as FOOTFALL_SECRET_KEY would give it); the schema is not.
    empty = Database(f"sqlite:///{tmp_path}/empty.db", secret_key=PG_SECRET_KEY)
    app = create_app(Settings(database_url=empty.url), db=empty, background=False)

    async def get(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://footfall") as client:
            return await client.get(path)

    try:
        answer = asyncio.run(get("/readyz"))
        assert answer.status_code == 503
        assert answer.json()["status"] == "unavailable"
        assert "footfall init" in answer.json()["problem"]
        assert asyncio.run(get("/healthz")).status_code == 200  # alive all the same
    finally:
        empty.dispose()


@pytest.fixture
def json_lines() -> Iterator[list[str]]:
    """Every footfall.* log line of the test, formatted as FOOTFALL_LOG_FORMAT=json does."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("footfall")
    access = logging.getLogger("footfall.access")
    saved = root.level, access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        access.setLevel(saved[1])


def test_json_logs_carry_the_request_and_location_ids(
    http: httpx.Client, site: Site, json_lines: list[str]
) -> None:
    put_config(http, site.ingest_token)
    answer = http.post(
        "/ingest/v1/events",
        json=[event(1, when=iso(datetime.now(UTC) - timedelta(minutes=5)))],
        headers={**bearer(site.ingest_token), "X-Request-ID": "req-42"},
    )
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "req-42"
    generated = http.get("/healthz").headers["x-request-id"]
    assert generated
    assert generated != "req-42"

    records = [json.loads(line) for line in json_lines]
    (ingest_line,) = [r for r in records if r.get("request_id") == "req-42"]
    assert ingest_line["location_id"] == site.location_id
    assert ingest_line["level"] == "INFO"
    assert ingest_line["logger"] == "footfall.access"
    assert ingest_line["status"] == 200
    assert ingest_line["route"] == "/ingest/v1/events"
    assert datetime.fromisoformat(ingest_line["time"]).tzinfo is not None
    assert ingest_line["message"] == "POST /ingest/v1/events 200"
    assert ingest_line["client"] == "127.0.0.1"
    health_line = next(r for r in records if r.get("request_id") == generated)
    assert "location_id" not in health_line
    assert "key_id" not in health_line


def test_json_access_lines_name_the_read_key(
    http: httpx.Client, db: Database, site: Site, json_lines: list[str]
) -> None:
    signer = Signer(site.public_key, site.secret)
    assert signer.get(http, "/locations").status_code == 200
    wrong = Signer(site.public_key, "not-the-secret", start_nonce=1000)
    assert wrong.get(http, "/locations").status_code == 401
    lines = [json.loads(line) for line in json_lines]
    reads = [r for r in lines if r.get("route") == "/service/api/v1/locations"]
    assert [(r["status"], r.get("key_id")) for r in reads] == [
        (200, management.list_keys(db, site.account_id)[0].id),
        (401, None),  # the signature failed: the request acted for no key
    ]
    assert all(r["client"] == "127.0.0.1" for r in reads)


def test_json_formatter_keeps_a_traceback_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "footfall.x", logging.ERROR, __file__, 1, "failed %s", ("it",), None
        )
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed it"
    assert "ValueError: boom" in parsed["exc_info"]
