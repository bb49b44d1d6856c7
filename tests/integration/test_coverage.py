"""Coverage, on both engines: heartbeats in, `GET /coverage` out.

A channel is covered for 90 s after an `ok` heartbeat (or an events batch carrying it);
an hour with no heartbeat at all is `none`, not a quiet hour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import RunningServer, Site
from tests.helpers import (
    TEST_RETENTION_DAYS,
    ManualClock,
    Signer,
    event,
    heartbeats,
    ok,
    post_events,
    post_heartbeats,
    put_config,
)

DAY = datetime(2026, 11, 24, tzinfo=UTC)
NOW = DAY.replace(hour=12, minute=30)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def http(db_url: str, db: Database, clock: ManualClock) -> Iterator[httpx.Client]:
    settings = Settings(database_url=db_url, rate_limit=0, retention_days=TEST_RETENTION_DAYS)
    with (
        RunningServer(settings, db, clock=clock) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


_signers: dict[str, Signer] = {}


def coverage(http: httpx.Client, site: Site, query: str = "") -> list[dict[str, Any]]:
    signer = _signers.setdefault(site.public_key, Signer(site.public_key, site.secret))
    base = f"location_id={site.location_id}&since=2026-11-24T00:00Z&until=2026-11-25T00:00Z"
    result: list[dict[str, Any]] = ok(signer.get(http, "/coverage", f"{base}&{query}"))
    return result


def by_hour(items: list[dict[str, Any]], channel: str) -> dict[str, tuple[int, str]]:
    return {
        i["hour"][11:13]: (i["covered_seconds"], i["state"])
        for i in items
        if i["channel_id"] == channel
    }


def test_a_silent_hour_is_none_not_quiet(http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    # The agent beats every 30 s until 09:58:30 (covered to 10:00), is silent for the
    # whole 10:00 hour, and beats again from 11:00.
    beats = heartbeats("cam-door", at(9), at(9, 59)) + heartbeats("cam-door", at(11), at(12))
    answer = post_heartbeats(http, site.ingest_token, beats)
    assert ok(answer) == {"accepted": len(beats)}
    # cam-floor sends no heartbeat; one events batch at 09:10 is its only sign of life.
    when = at(9, 10).isoformat()
    ok(
        post_events(
            http,
            site.ingest_token,
            [event(1, trigger="t-shelf", event_type="RegionJoin", when=when)],
        )
    )

    items = coverage(http, site)
    assert by_hour(items, "cam-door") == {
        "09": (3600, "complete"),
        "10": (0, "none"),
        "11": (3600, "complete"),
    }  # 12:00 is not over (now 12:30); before 09:00 nothing is known
    assert by_hour(items, "cam-floor") == {
        "09": (90, "partial"),
        "10": (0, "none"),
        "11": (0, "none"),
    }
    first = items[0]
    assert first == {
        "location_id": site.location_id,
        "channel_id": "cam-door",
        "hour": "2026-11-24T09:00:00+00:00",
        "covered_seconds": 3600,
        "state": "complete",
    }
    assert [i["channel_id"] for i in coverage(http, site, "channel_id=cam-floor")] == [
        "cam-floor"
    ] * 3


def test_no_signal_ends_coverage_and_arrival_order_does_not_matter(
    http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    beats = heartbeats("cam-door", at(9), at(10))
    # The camera lost its signal from 09:20 to 09:30: the agent said so each time.
    down = {b["at"] for b in heartbeats("cam-door", at(9, 20), at(9, 30))}
    for b in beats:
        if b["at"] in down:
            b["status"] = "no_signal"
    # Delivered newest first, in three requests, one of them twice.
    beats.reverse()
    for chunk in (beats[:40], beats[40:80], beats[40:80], beats[80:]):
        ok(post_heartbeats(http, site.ingest_token, chunk))
    assert by_hour(coverage(http, site), "cam-door")["09"] == (3000, "partial")


def test_heartbeats_are_validated_whole(http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    good = {"id": "cam-door", "status": "ok", "at": at(9).isoformat()}
    bad: list[Any] = [
        good,
        {"id": "cam-nowhere", "status": "ok", "at": at(9).isoformat()},
        {"id": "cam-door", "status": "fine", "at": at(9).isoformat()},
        {"id": "cam-door", "status": "ok", "at": "2026-11-24T09:00:00"},
        {"id": "cam-door", "status": "ok", "at": (NOW + timedelta(minutes=11)).isoformat()},
        {"status": "ok"},
        "cam-door",
    ]
    answer = post_heartbeats(http, site.ingest_token, bad)
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == 4
    problems = {(p["index"], p["field"]) for p in body["result"]}
    assert problems == {
        (1, "id"),
        (2, "status"),
        (3, "at"),
        (4, "at"),
        (5, "id"),
        (5, "at"),
        (6, ""),
    }
    messages = {(p["index"], p["field"]): p["message"] for p in body["result"]}
    assert "not declared" in messages[(1, "id")]
    assert "ok, no_signal, sabotage" in messages[(2, "status")]
    assert "no UTC offset" in messages[(3, "at")]
    assert "10 minutes in the future" in messages[(4, "at")]
    assert coverage(http, site) == []  # atomic: the good one was not stored either

    for raw, status in (
        (b"not json", 400),
        (b"[]", 400),
        (b'{"channels": {}}', 400),
        (b"[" * 5000 + b"]" * 5000, 400),
    ):
        refused = http.post(
            "/ingest/v1/heartbeat",
            content=raw,
            headers={"Authorization": f"Bearer {site.ingest_token}"},
        )
        assert refused.status_code == status, raw[:20]
        assert refused.json()["code"] == 4
    too_many = http.post(
        "/ingest/v1/heartbeat",
        json={"channels": [good] * 10_001},
        headers={"Authorization": f"Bearer {site.ingest_token}"},
    )
    assert too_many.status_code == 413
    assert http.post("/ingest/v1/heartbeat", json={"channels": [good]}).status_code == 401


def test_the_coverage_window_is_bounded_and_its_parameters_strict(
    http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    signer = Signer(site.public_key, site.secret, start_nonce=1)
    wide = "since=2020-01-01T00:00Z&until=2026-11-24T00:00Z"
    # Before any mark nothing is listed, however wide the range: it is answered.
    assert ok(signer.get(http, "/coverage", wide)) == []
    beat = [{"id": "cam-door", "status": "ok", "at": "2020-01-01T00:00:30Z"}]
    assert post_heartbeats(http, site.ingest_token, beat).status_code == 200
    huge = signer.get(http, "/coverage", wide)
    assert huge.status_code == 400
    assert huge.json()["code"] == 4
    assert "channel-hours" in huge.json()["msg"]
    assert "since" in huge.json()["msg"]
    bad = signer.get(http, "/coverage", "since=yesterday")
    assert bad.status_code == 400
    assert "'since'" in bad.json()["msg"]
    assert (
        ok(signer.get(http, "/coverage", "since=2026-11-24T10:00Z&until=2026-11-24T09:00Z")) == []
    )
    other = signer.get(http, "/coverage", "location_id=999")
    assert other.status_code == 404
    assert other.json()["code"] == 5


def test_a_poisoned_coverage_row_never_blocks_ingest(
    http: httpx.Client, db: Database, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    put_config(http, site.ingest_token)
    ok(post_heartbeats(http, site.ingest_token, heartbeats("cam-door", at(9), at(9, 10))))
    with db.write() as conn:
        conn.execute(text("UPDATE coverage_quarters SET marks = 'garbage,!!'"))
    caplog.set_level(logging.WARNING, logger="footfall.coverage")
    # Reading whole hours does not need the marks; a partial one is read as unknown marks.
    assert coverage(http, site)[0]["hour"].startswith("2026-11-24T09")
    ok(post_heartbeats(http, site.ingest_token, heartbeats("cam-door", at(9, 5), at(9, 15))))
    ok(post_events(http, site.ingest_token, [event(7, when=at(9, 6).isoformat())]))
    assert "rebuilding it from new marks" in caplog.text
    assert by_hour(coverage(http, site), "cam-door")["09"] == (10 * 60 + 60, "partial")
