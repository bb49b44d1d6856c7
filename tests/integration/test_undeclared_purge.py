"""Channels and triggers no longer declared go with their derived data: after the
retention period (the retention job) or at once (`footfall locations prune`), on both
engines (docs/operations.md, Limits)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import msgspec
from sqlalchemy import Table, func, select
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.services import occupancy
from footfall.services.analytics import compute_histograms
from footfall.services.ingest import Ingest
from footfall.services.retention import purge_expired_events
from footfall.services.undeclared import prune_location
from footfall.store.db import Database
from footfall.store.locations import get_location
from footfall.store.schema import (
    channels,
    coverage_quarters,
    events,
    histograms,
    hourly_rollups,
    quarter_rollups,
    triggers,
    zone_progress,
    zone_quarters,
)
from tests.conftest import Site
from tests.helpers import (
    STORE_CONFIG,
    ManualClock,
    bearer,
    event,
    heartbeats,
    ingest_directly,
    put_config,
    recent,
)

RETENTION_DAYS = 30.0
DOOR_ONLY = {**STORE_CONFIG, "channels": STORE_CONFIG["channels"][:1]}  # no cam-floor
BY_TRIGGER = (events, hourly_rollups, quarter_rollups, histograms, zone_progress, zone_quarters)


def _rows(db: Database, table: Table, column: str, value: str) -> int:
    with db.read() as conn:
        query = select(func.count()).select_from(table).where(table.c[column] == value)
        return int(conn.execute(query).scalar_one())


def _derived(db: Database, trigger: str) -> list[int]:
    return [_rows(db, table, "trigger_id", trigger) for table in BY_TRIGGER]


def _ids(db: Database, table: Table) -> set[str]:
    with db.read() as conn:
        return {str(i) for i in conn.execute(select(table.c.id)).scalars()}


def _busy_floor(db: Database, site: Site, clock: ManualClock) -> None:
    """Events on every trigger, heartbeats for cam-floor, the shelf's histograms; then an
    agent that stops declaring cam-floor (and so t-shelf and t-scene)."""
    start = recent(180)
    clock.set(start + timedelta(hours=3))
    batch = [
        event(1, when=start),
        event(2, trigger="t-shelf", event_type="RegionJoin", when=start),
        event(3, trigger="t-shelf", event_type="RegionLeave", when=start + timedelta(minutes=5)),
        event(4, trigger="t-scene", event_type="ObjectAppear", when=start),
    ]
    ingest_directly(db, site.location_id, batch, clock=clock, config=STORE_CONFIG)
    ingest = Ingest(db, clock, retention_days=RETENTION_DAYS)
    with db.read() as conn:
        location = get_location(conn, site.location_id)
    assert location is not None
    beats = heartbeats("cam-floor", start, start + timedelta(minutes=30))
    ingest.post_heartbeat(location, msgspec.json.encode({"channels": beats}))
    ingest.put_config(location, msgspec.json.encode(DOOR_ONLY))
    ingest.close()
    compute_histograms(db, retention_days=RETENTION_DAYS, clock=clock)
    assert all(_derived(db, "t-shelf")[:4])  # events, rollups and histograms exist
    assert _rows(db, coverage_quarters, "channel_id", "cam-floor") > 0


def test_the_retention_job_purges_what_is_undeclared_for_longer_than_the_period(
    db: Database, site: Site
) -> None:
    clock = ManualClock(recent())
    _busy_floor(db, site, clock)
    undeclared_at = clock()
    enter_rollups = _rows(db, hourly_rollups, "trigger_id", "t-enter")
    clock.ms = undeclared_at + int((RETENTION_DAYS - 1) * 86_400_000)
    purge_expired_events(db, RETENTION_DAYS, clock=clock)
    assert "cam-floor" in _ids(db, channels)  # not yet: undeclared for 29 days
    assert _rows(db, hourly_rollups, "trigger_id", "t-shelf") > 0
    clock.ms = undeclared_at + int((RETENTION_DAYS + 1) * 86_400_000)
    purge_expired_events(db, RETENTION_DAYS, clock=clock)
    assert _ids(db, channels) == {"cam-door"}
    assert _ids(db, triggers) == {"t-enter", "t-exit"}
    for trigger in ("t-shelf", "t-scene"):
        assert _derived(db, trigger) == [0] * len(BY_TRIGGER)
    assert _rows(db, coverage_quarters, "channel_id", "cam-floor") == 0
    assert _rows(db, hourly_rollups, "channel_id", "cam-floor") == 0
    # What is still declared keeps its rollups (its raw events went with retention).
    assert _rows(db, hourly_rollups, "trigger_id", "t-enter") == enter_rollups


def test_prune_keeps_what_an_operator_defined_and_says_why(db: Database, site: Site) -> None:
    clock = ManualClock(recent())
    _busy_floor(db, site, clock)
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Till", zone="t-shelf")
    enter_before = _derived(db, "t-enter")
    result = prune_location(db, site.location_id)
    assert (result.channels, result.triggers) == ([], ["t-scene"])
    assert result.derived_rows > 0
    assert result.kept == [
        {"kind": "trigger", "id": "t-shelf", "reason": f"queue {queue.id}"},
        {"kind": "channel", "id": "cam-floor", "reason": "a kept trigger belongs to it"},
    ]
    assert _derived(db, "t-scene") == [0] * len(BY_TRIGGER)
    assert all(_derived(db, "t-shelf")[:4])
    assert _derived(db, "t-enter") == enter_before
    occupancy.delete_queue(db, queue.id)
    again = prune_location(db, site.location_id)
    assert (again.channels, again.triggers, again.kept) == (["cam-floor"], ["t-shelf"], [])
    assert _ids(db, channels) == {"cam-door"}


def test_a_declared_again_channel_is_never_purged(db: Database, site: Site) -> None:
    clock = ManualClock(recent())
    _busy_floor(db, site, clock)
    ingest_directly(db, site.location_id, clock=clock, config=STORE_CONFIG)
    result = prune_location(db, site.location_id)
    assert (result.channels, result.triggers) == ([], [])
    assert all(_derived(db, "t-shelf")[:4])


def test_two_prunes_at_once_purge_each_row_once(db: Database, site: Site) -> None:
    clock = ManualClock(recent())
    _busy_floor(db, site, clock)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: prune_location(db, site.location_id, chunk=1), [0, 1]))
    assert sorted(t for r in results for t in r.triggers) == ["t-scene", "t-shelf"]
    assert [c for r in results for c in r.channels] == ["cam-floor"]
    assert _ids(db, channels) == {"cam-door"}


def test_ingest_refuses_a_purged_trigger_at_once(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    put_config(http, site.ingest_token, DOOR_ONLY)
    shelf = [event(1, trigger="t-shelf", event_type="RegionJoin")]
    # Undeclared, still known: buffered events are taken (and warm the server's cache).
    first = http.post("/ingest/v1/events", json=shelf, headers=bearer(site.ingest_token))
    assert first.status_code == 200, first.text
    prune_location(db, site.location_id)
    again = [event(2, trigger="t-shelf", event_type="RegionJoin")]
    refused = http.post("/ingest/v1/events", json=again, headers=bearer(site.ingest_token))
    assert refused.status_code == 422, refused.text
    assert "unknown trigger 't-shelf'" in refused.text
    assert _rows(db, events, "trigger_id", "t-shelf") == 0


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_the_prune_command(db_url: str, db: Database, site: Site) -> None:
    clock = ManualClock(recent())
    _busy_floor(db, site, clock)
    done = _cli("locations", "prune", "--location", str(site.location_id), "--db", db_url, "--json")
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    assert printed["location_id"] == site.location_id
    assert printed["channels"] == ["cam-floor"]
    assert sorted(printed["triggers"]) == ["t-scene", "t-shelf"]
    assert printed["derived_rows"] > 0
    assert printed["kept"] == []
    missing = _cli("locations", "prune", "--location", "999999", "--db", db_url)
    assert missing.exit_code == 1
    assert "no location 999999" in missing.output
