"""Edge devices whose clocks jump, data from before the retention rule, two job runners and
a timezone change (docs/api.md, The ingest API and Histograms; docs/operations.md, Configuration),
on both engines.

What a user would notice: a camera whose clock reset gets a clear 422 and costs nothing
else; one poisoned trigger never stops the other locations' histograms; the read API
renders any stored instant; every histogram equals the brute-force reference whatever
ran concurrently; hours never overlap after a zone change."""

from __future__ import annotations

import itertools
import logging
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import select, update

from footfall.config import ConfigError, Settings
from footfall.domain.times import format_local, parse_zone, to_ms
from footfall.services.analytics import RETRY_MS, compute_histograms
from footfall.store.db import Database
from footfall.store.schema import histograms
from tests.conftest import RunningServer, Site, make_site
from tests.helpers import (
    STORE_CONFIG,
    Signer,
    bearer,
    ingest_directly,
    ok,
    post_events,
    put_config,
)
from tests.zone_reference import reference_counting_data, reference_events, reference_histograms

HOUR = 3_600_000
DAY = 24 * HOUR
FOREVER = 10**6  # days: what a release before the retention rule accepted


def zone_event(record: int, obj: int, join: bool, when: str) -> dict[str, Any]:
    return {
        "record_id": record,
        "event_type": "RegionJoin" if join else "RegionLeave",
        "trigger_id": "t-shelf",
        "channel_id": "cam-floor",
        "object_id": obj,
        "event_time": when,
    }


def stored_hours(db: Database, location_id: int) -> dict[int, tuple[int, list[int], list[int]]]:
    """hour start -> (hour end, counting data, lifetime data) of a location's histograms."""
    with db.read() as conn:
        rows = conn.execute(select(histograms).where(histograms.c.location_id == location_id)).all()
    return {
        r.hour_start: (
            r.hour_end,
            msgspec.json.decode(r.counting_data),
            msgspec.json.decode(r.lifetime_data),
        )
        for r in rows
    }


def assert_equals_reference(
    db: Database, location_id: int, sent: list[dict[str, Any]], zone: Any, now: int
) -> None:
    events = reference_events(sent)
    expected = reference_histograms(events, zone, now)
    stored = stored_hours(db, location_id)
    assert set(stored) == set(expected)
    for hour, (counting_ms, lifetime) in expected.items():
        _, counting, life = stored[hour]
        assert counting == reference_counting_data(counting_ms), hour
        assert life == lifetime, hour


def traffic(start: int, zone: Any, seed: int, count: int = 60) -> list[dict[str, Any]]:
    """Joins and leaves of a few objects over about six hours from `start`."""
    rng = random.Random(seed)
    return [
        zone_event(
            n,
            rng.randint(1, 6),
            rng.random() < 0.55,
            format_local(start + rng.randint(0, 6 * HOUR), zone),
        )
        for n in range(1, count + 1)
    ]


# -- reset clocks are refused ----------------------------------------------------------


def test_events_from_a_reset_clock_are_refused_naming_the_event(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    bad = [
        zone_event(1, 1, True, "1970-01-01T00:00:00.000Z"),
        zone_event(2, 1, True, "1883-11-18T12:00:00-05:00"),
        zone_event(3, 1, True, "0001-01-01T00:00:00+14:00"),
    ]
    answer = post_events(http, site.ingest_token, bad)
    assert answer.status_code == 422
    problems = answer.json()["result"]
    assert [(p["index"], p["field"]) for p in problems] == [(i, "event_time") for i in range(3)]
    assert all("retention" in p["message"] for p in problems)
    assert stored_hours(db, site.location_id) == {}
    compute_histograms(db)  # nothing to do: nothing was stored
    assert stored_hours(db, site.location_id) == {}


def test_the_retention_period_is_at_least_two_days() -> None:
    with pytest.raises(ConfigError, match="FOOTFALL_RETENTION_DAYS"):
        Settings(retention_days=1)
    with pytest.raises(ConfigError, match="FOOTFALL_RETENTION_DAYS"):
        Settings.from_env({"FOOTFALL_RETENTION_DAYS": "0.5"})
    assert Settings.from_env({"FOOTFALL_RETENTION_DAYS": "2"}).retention_days == 2


def test_a_body_nested_100000_deep_is_a_400(http: httpx.Client, site: Site) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for method, path in (("POST", "/ingest/v1/events"), ("PUT", "/ingest/v1/config")):
        answer = http.request(
            method,
            path,
            content=deep,
            headers={**bearer(site.ingest_token), "Content-Type": "application/json"},
        )
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == 4
        assert "too deeply" in answer.json()["msg"]


# -- data stored before the rule ---------------------------------------------------------


def test_legacy_data_is_bounded_by_retention_rendered_and_never_blocks_others(
    db: Database, settings: Settings
) -> None:
    """Events a release before the retention rule accepted: 1883 and year 1 in New York
    (local mean time, -04:56:02), 1970. The job reaches back only the retention period,
    the read API renders them, and another location's histograms are computed as ever."""
    retention_days = 3
    now = to_ms(datetime.now(UTC).replace(minute=30, second=0, microsecond=0))
    legacy = make_site(db, timezone="America/New_York", name="Legacy")
    other = make_site(db, timezone="UTC", name="Other")
    old = [
        zone_event(1, 1, True, "0001-01-01T00:00:00+14:00"),
        zone_event(2, 2, True, "1883-11-18T16:00:00Z"),
        zone_event(3, 3, True, "1970-01-01T00:00:00Z"),
    ]
    ingest_directly(db, legacy.location_id, old, retention_days=FOREVER)
    recent = traffic(now - 8 * HOUR, UTC, seed=3)
    ingest_directly(db, other.location_id, recent)

    run = compute_histograms(db, retention_days=retention_days, clock=lambda: now)
    assert run.failed == 0
    # Bounded: a few days of hours for the legacy trigger, not 2,000 years of them.
    assert 3 * 24 <= len(stored_hours(db, legacy.location_id)) <= 4 * 24 + 2
    # Joins older than the retention period never enter the replay (their events are
    # purged anyway): the zone reads empty rather than holding them for ever.
    assert all(
        counting == [3600.0] for _, counting, _ in stored_hours(db, legacy.location_id).values()
    )
    assert_equals_reference(db, other.location_id, recent, UTC, now)

    # The server starts only now and keeps the same retention: its own histogram job must
    # not reach back further than the one measured above while the test reads.
    served = replace(settings, retention_days=retention_days)
    with RunningServer(served, db) as server, httpx.Client(base_url=server.url) as http:
        signer = Signer(legacy.public_key, legacy.secret)
        answer = signer.get(http, "/events", f"location_id={legacy.location_id}")
        times = sorted(e["event_time"] for e in ok(answer))
        assert times == [
            "0000-12-31T05:03:58.000-04:56",
            "1883-11-18T11:03:58.000-04:56",
            "1969-12-31T19:00:00.000-05:00",
        ]
        whole_account = signer.get(http, "/events")  # every location at once renders too
        assert whole_account.status_code == 200, whole_account.text


def test_a_poisoned_trigger_is_logged_retried_later_and_never_blocks_others(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    now = to_ms(datetime.now(UTC).replace(minute=30, second=0, microsecond=0))
    poisoned = make_site(db, timezone="UTC", name="Poisoned")
    healthy = make_site(db, timezone="UTC", name="Healthy")
    ingest_directly(db, poisoned.location_id, traffic(now - 8 * HOUR, UTC, seed=1))
    sent = traffic(now - 8 * HOUR, UTC, seed=2)
    ingest_directly(db, healthy.location_id, sent[:30])
    compute_histograms(db, clock=lambda: now)
    # A stored snapshot the next run must read goes bad (a disk error, a bad restore...).
    with db.write() as conn:
        conn.execute(
            update(histograms)
            .where(histograms.c.location_id == poisoned.location_id)
            .values(open_stays="{not json")
        )
    late = format_local(now - 2 * HOUR, UTC)
    ingest_directly(db, poisoned.location_id, [zone_event(900, 1, True, late)])
    ingest_directly(db, healthy.location_id, sent[30:])

    with caplog.at_level(logging.ERROR, logger="footfall.histograms"):
        run = compute_histograms(db, clock=lambda: now + 1000)
    assert run.failed == 1
    assert f"trigger 't-shelf' of location {poisoned.location_id} failed" in caplog.text
    assert_equals_reference(db, healthy.location_id, sent, UTC, now)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="footfall.histograms"):
        assert compute_histograms(db, clock=lambda: now + 2000).failed == 0  # backing off
        assert compute_histograms(db, clock=lambda: now + 2000 + RETRY_MS).failed == 1
    assert "failed" in caplog.text


# -- offsets that are not whole quarter-hours ---------------------------------------------


@pytest.mark.parametrize(
    ("zone_name", "start"),
    [
        ("+05:07", None),  # a fixed offset 7 minutes past a quarter
        ("America/New_York", "1883-11-18T06:00:00Z"),  # LMT, then standard time at noon
    ],
)
def test_hours_of_odd_offsets_equal_the_reference(
    db: Database, zone_name: str, start: str | None
) -> None:
    zone = parse_zone(zone_name)
    if start is None:
        first = to_ms(datetime.now(UTC)) - 20 * HOUR
    else:
        first = to_ms(datetime.fromisoformat(start))
    site = make_site(db, timezone=zone_name)
    sent = traffic(first, zone, seed=7)
    ingest_directly(db, site.location_id, sent, retention_days=FOREVER)
    now = first + 12 * HOUR
    run = compute_histograms(db, clock=lambda: now)
    assert run.failed == 0
    assert_equals_reference(db, site.location_id, sent, zone, now)


# -- concurrency and zone changes ---------------------------------------------------------


def test_two_job_runners_beside_concurrent_ingest_give_the_reference(
    db: Database, db_url: str, site: Site
) -> None:
    """Two runners (each with its own connections, as two processes would have) go round
    while batches, late ones included, keep arriving; then one final run. No lost update:
    every hour equals the brute-force replay of everything stored."""
    end = to_ms(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    sent = traffic(end - 10 * HOUR, UTC, seed=11, count=300)
    random.Random(5).shuffle(sent)
    batches = [sent[i : i + 20] for i in range(0, len(sent), 20)]
    ingest_directly(db, site.location_id, batches[0])
    done = threading.Event()
    failures: list[BaseException] = []

    def runner() -> None:
        own = Database(db_url)
        try:
            while not done.is_set():
                assert compute_histograms(own, clock=lambda: end).failed == 0
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for batch in batches[1:]:
            ingest_directly(db, site.location_id, batch)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == []
    compute_histograms(db, clock=lambda: end)
    assert_equals_reference(db, site.location_id, sent, UTC, end)


def test_a_timezone_change_recomputes_hours_that_never_overlap(
    http: httpx.Client, db: Database, site: Site
) -> None:
    put_config(http, site.ingest_token)
    now = to_ms(datetime.now(UTC).replace(minute=50, second=0, microsecond=0))
    sent = traffic(now - 9 * HOUR, UTC, seed=21)
    ok(post_events(http, site.ingest_token, sent))
    compute_histograms(db, clock=lambda: now)
    assert all(start % HOUR == 0 for start in stored_hours(db, site.location_id))

    kolkata = {**STORE_CONFIG, "timezone": "Asia/Kolkata"}
    put_config(http, site.ingest_token, kolkata)
    compute_histograms(db, clock=lambda: now)
    stored = stored_hours(db, site.location_id)
    hours = sorted((start, end) for start, (end, _, _) in stored.items())
    assert all(start % HOUR == 30 * 60_000 for start, _ in hours)  # :30 UTC, Kolkata's hours
    for (_, end_a), (start_b, _) in itertools.pairwise(hours):
        assert end_a <= start_b  # never two rows over the same instant
    assert_equals_reference(db, site.location_id, sent, parse_zone("Asia/Kolkata"), now)
