"""Every read-API answer, byte for byte, on a fixed seeded dataset (both engines).

The answers of the Camlytics v1 endpoints (and of Footfall's extensions) must not change
when the code behind them does: field order, JSON types, number formatting, error texts.
`tests/data/read_answers.golden.json` holds the raw bytes recorded from the server; this
test rebuilds the dataset, asks the same requests over real HTTP and compares.

Values that are random per database (a location's `hash`) or depend on today's date (the
current UTC offset of a zone with DST) are replaced by placeholders before comparing.
Record anew (only when an answer is meant to change, and say why in the commit):
`FOOTFALL_RECORD_ANSWERS=1 pytest tests/integration/test_read_answers_unchanged.py -n 0`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.domain.times import format_offset
from footfall.services import drift, occupancy
from footfall.services.analytics import compute_histograms
from footfall.store.db import Database
from tests.conftest import Site, make_site
from tests.helpers import (
    TEST_RETENTION_DAYS,
    ManualClock,
    Signer,
    bearer,
    event,
    heartbeats,
    post_heartbeats,
    put_config,
)

GOLDEN = Path(__file__).parent.parent / "data" / "read_answers.golden.json"
ZONE = "America/New_York"
START = datetime(2026, 10, 31, 12, tzinfo=UTC)  # the day before New York leaves DST
NOW = datetime(2026, 11, 2, 15, 0, 0, 0, tzinfo=UTC)

# (label, path, percent-encoded query without the nonce)
REQUESTS: list[tuple[str, str, str]] = [
    ("locations", "/locations", ""),
    ("channels", "/channels", ""),
    ("channels-location", "/channels", "location_id=1"),
    ("triggers", "/triggers", ""),
    ("triggers-channel", "/triggers", "channel_id=cam-floor"),
    ("triggers-list", "/triggers", "location_id=1&channel_id=cam-door,cam-floor"),
    ("events", "/events", ""),
    ("events-page", "/events", "limit=7&after_id=5"),
    ("events-range", "/events", "since=2026-11-01T00%3A30-04%3A00&until=2026-11-01T08%3A30Z"),
    ("events-space", "/events", "since=2026-11-01T05:00:00.123456+00:00&limit=3"),
    ("events-types", "/events", "event_type=RegionJoin,RegionLeave&origin=Face,Vehicle"),
    ("events-trigger", "/events", "trigger_id=t-exit&location_id=1"),
    ("totals-triggers", "/totals/triggers", ""),
    ("totals-triggers-range", "/totals/triggers", "since=2026-11-01T01%3A07%3A13.5Z"),
    ("totals-triggers-type", "/totals/triggers", "event_type=TripwireCrossed&origin=Pedestrian"),
    ("totals-triggers-updated", "/totals/triggers", "updated_since=2026-11-02T14%3A00Z"),
    ("totals-types", "/totals/types", ""),
    ("totals-types-channel", "/totals/types", "channel_id=cam-floor&until=2026-11-01T12%3A00Z"),
    ("totals-types-updated", "/totals/types", "updated_since=2026-11-02T14%3A00Z"),
    ("histograms", "/histograms", "until=2026-11-02T14%3A00Z"),
    ("histograms-page", "/histograms", "limit=3&after_id=2&until=2026-11-02T14%3A00Z"),
    ("histograms-updated", "/histograms", "updated_since=2026-11-02T14%3A00Z"),
    ("occupancy", "/occupancy", ""),
    ("queues", "/queues", "location_id=1"),
    ("coverage", "/coverage", ""),
    ("coverage-range", "/coverage", "channel_id=cam-door&since=2026-11-02T09%3A00Z"),
    ("error-limit", "/events", "limit=0"),
    ("error-list", "/events", "channel_id=a,,b"),
    ("error-origin", "/events", "origin=Martian"),
    ("error-since", "/events", "since=2026-11-01"),
    ("error-repeat", "/channels", "location_id=1&location_id=1"),
    ("error-location", "/channels", "location_id=99"),
    # Answered (it was refused before coverage counted only the hours after a first mark).
    (
        "coverage-before-first-mark",
        "/coverage",
        "since=2025-01-01T00%3A00Z&until=2026-11-02T00%3A00Z",
    ),
]


def _events() -> list[dict[str, Any]]:
    """Crossings, zone stays and scene events every few minutes over the DST change."""
    out: list[dict[str, Any]] = []
    moment = START
    record = 0
    while moment < NOW - timedelta(hours=2):
        record += 1
        kind = record % 6
        if kind in (0, 1):
            out.append(event(record, trigger="t-enter" if kind else "t-exit", when=moment))
        elif kind in (2, 3):
            out.append(
                event(
                    record,
                    trigger="t-shelf",
                    event_type="RegionJoin" if kind == 2 else "RegionLeave",
                    object_id=record - kind + 2,
                    origin="Face",
                    suborigin="",
                    age_range="26 - 35",
                    gender="Female",
                    when=moment,
                )
            )
        else:
            out.append(
                event(
                    record,
                    trigger="t-scene",
                    event_type="ObjectAppear",
                    origin="Vehicle",
                    suborigin="Car",
                    snapshot_id=-record,
                    when=moment,
                )
            )
        moment += timedelta(minutes=37 + record % 11, milliseconds=record * 7)
    return out


class _Server:
    """The app with an injected clock and no background jobs, served by uvicorn."""

    def __init__(self, db: Database, db_url: str, clock: ManualClock) -> None:
        settings = Settings(database_url=db_url, rate_limit=0, retention_days=TEST_RETENTION_DAYS)
        app = create_app(settings, db=db, clock=clock, background=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline
            assert self.thread.is_alive()
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _seed(db: Database, site: Site, http: httpx.Client, clock: ManualClock) -> None:
    put_config(http, site.ingest_token)
    events = _events()
    late = [e for e in events if e["record_id"] % 9 == 0]
    for start in range(0, len(events), 40):
        batch = [e for e in events[start : start + 40] if e not in late]
        assert http.post("/ingest/v1/events", json=batch, headers=bearer(site.ingest_token))
    for channel in ("cam-door", "cam-floor"):
        beats = heartbeats(channel, NOW - timedelta(hours=20), NOW - timedelta(hours=3))
        assert post_heartbeats(http, site.ingest_token, beats).status_code == 200
    counter = occupancy.create_counter(
        db, location_id=site.location_id, name="Shop", enter=("t-enter",), exit_=("t-exit",)
    )
    occupancy.create_counter(
        db, location_id=site.location_id, name="Shelf", zone="t-shelf", capacity=12
    )
    occupancy.create_queue(db, location_id=site.location_id, name="Till", zone="t-shelf")
    compute_histograms(db, retention_days=TEST_RETENTION_DAYS, clock=clock)
    clock.set(NOW - timedelta(minutes=30))
    answer = http.post("/ingest/v1/events", json=late, headers=bearer(site.ingest_token))
    assert answer.status_code == 200, answer.text
    drift.calibrate(db, counter.id, 3, by="tester", clock=clock)
    compute_histograms(db, retention_days=TEST_RETENTION_DAYS, clock=clock)
    clock.set(NOW)


def _normalized(body: bytes, site_hash: str) -> str:
    offset = format_offset(datetime.now(ZoneInfo(ZONE)).utcoffset())
    text = body.decode()
    text = text.replace(json.dumps(site_hash)[1:-1], "<hash>") if site_hash else text
    return text.replace(f'"timezone_offset":"{offset}"', '"timezone_offset":"<now>"')


@pytest.fixture
def answers(db: Database, db_url: str) -> Iterator[dict[str, str]]:
    site = make_site(db, timezone=ZONE)
    assert site.location_id == 1  # the requests name it
    clock = ManualClock(NOW - timedelta(hours=2))
    with _Server(db, db_url, clock) as url, httpx.Client(base_url=url, timeout=60) as http:
        _seed(db, site, http, clock)
        signer = Signer(site.public_key, site.secret)
        raw = {label: signer.get(http, path, query) for label, path, query in REQUESTS}
        site_hash = json.loads(raw["locations"].content)["result"][0]["hash"]
        yield {
            label: f"{answer.status_code} {_normalized(answer.content, site_hash)}"
            for label, answer in raw.items()
        }


def test_every_read_answer_is_byte_for_byte_the_recorded_one(answers: dict[str, str]) -> None:
    if os.environ.get("FOOTFALL_RECORD_ANSWERS") == "1":
        GOLDEN.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(GOLDEN.read_text())
    assert list(answers) == list(recorded)
    for label, body in answers.items():
        assert body == recorded[label], label
