"""The simulator against a real server (both engines): the read API's totals per trigger
and local hour equal the simulator's ground truth exactly; every RegionJoin has its
RegionLeave."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from footfall.client import Client
from footfall.domain.histogram import local_hours
from footfall.domain.times import MS_PER_HOUR, format_local, parse_zone, to_ms
from footfall.sim.simulate import SimulationOptions, run_simulation
from footfall.store.db import Database
from tests.conftest import RunningServer, make_site

pytestmark = pytest.mark.slow
ZONE = "America/New_York"


def test_two_simulated_days_match_the_ground_truth(
    server: RunningServer, db: Database, tmp_path: Path
) -> None:
    site = make_site(db, timezone=ZONE)
    truth_file = tmp_path / "truth.json"
    options = SimulationOptions(
        url=server.url,
        token=site.ingest_token,
        location_id=site.location_id,
        days=2,
        seed=11,
        truth_path=truth_file,
        show_progress=False,
    )
    run_simulation(options)
    truth = json.loads(truth_file.read_text())
    assert truth["timezone"] == ZONE
    # A resend of the same days (an agent retrying) stores nothing new.
    run_simulation(SimulationOptions(**{**options.__dict__, "truth_path": None}))

    zone = parse_zone(ZONE)
    hours = sorted({h for per_trigger in truth["triggers"].values() for h in per_trigger})
    first = to_ms(datetime.fromisoformat(hours[0]))
    last = to_ms(datetime.fromisoformat(hours[-1]))
    with Client(server.url, site.public_key, site.secret) as api:
        for start in range(first, last + MS_PER_HOUR, MS_PER_HOUR):
            since = format_local(start, zone)
            until = format_local(start + MS_PER_HOUR, zone)
            label = since[:19] + since[23:]
            for kind, field in (
                ("TripwireCrossed", "crossings"),
                ("RegionJoin", "joins"),
                ("RegionLeave", "leaves"),
            ):
                answer = api.totals_by_trigger(since=since, until=until, event_type=kind)
                measured = {t["trigger_id"]: t["count"] for t in answer}
                expected = {
                    trigger: cells[label][field]
                    for trigger, cells in truth["triggers"].items()
                    if label in cells and cells[label][field]
                }
                assert measured == expected, (label, kind)
        stays: Counter[tuple[str, int]] = Counter()
        for event in api.iter_events(event_type="RegionJoin,RegionLeave", limit=5000):
            step = 1 if event["event_type"] == "RegionJoin" else -1
            stays[(event["trigger_id"], event["object_id"])] += step
    assert stays
    assert set(stays.values()) == {0}


def test_simulated_days_are_covered_every_hour(server: RunningServer, db: Database) -> None:
    """The simulator beats every 30 s for every channel: no hour is a gap."""
    site = make_site(db, timezone=ZONE)
    run_simulation(
        SimulationOptions(url=server.url, token=site.ingest_token, days=1, show_progress=False)
    )
    zone = parse_zone(ZONE)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = to_ms(today - timedelta(days=1))  # wall-clock arithmetic: local midnight
    hours = local_hours(zone, yesterday, to_ms(today))  # 23 or 25 on a DST day
    with Client(server.url, site.public_key, site.secret) as api:
        items = api.coverage(
            since=format_local(yesterday, zone), until=format_local(to_ms(today), zone)
        )
        channels = {c["id"] for c in api.channels()}
    assert {i["channel_id"] for i in items} == channels
    assert len(items) == len(channels) * len(hours)
    assert {i["state"] for i in items} == {"complete"}
