"""Feeds with coverage, on both engines: an hour the agent was silent is
`null` (an empty cell), not 0, and every series carries its coverage (0-1)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import msgspec
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.feeds import csv_document
from footfall.services import feeds
from footfall.services.ingest import Ingest
from footfall.store.db import Database
from footfall.store.locations import get_location
from tests.conftest import Site
from tests.helpers import ManualClock, event, heartbeats, ingest_directly

DAY = datetime(2026, 11, 24, tzinfo=UTC)
NOW = DAY.replace(hour=12, minute=30)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def send_heartbeats(db: Database, site: Site, beats: list[dict[str, str]]) -> None:
    ingest = Ingest(db, ManualClock(NOW), retention_days=3650)
    try:
        with db.read() as conn:
            location = get_location(conn, site.location_id)
        assert location is not None
        ingest.post_heartbeat(location, msgspec.json.encode({"channels": beats}))
    finally:
        ingest.close()


def silent_ten_oclock(db: Database, site: Site) -> None:
    """cam-door beats 09:00-10:00 and 11:00-12:00; nothing at all in the 10:00 hour."""
    ingest_directly(
        db,
        site.location_id,
        [event(i, when=at(9, 15)) for i in range(1, 4)]
        + [event(i, when=at(11, 30)) for i in range(4, 6)],
        clock=ManualClock(NOW),
    )
    send_heartbeats(
        db, site, heartbeats("cam-door", at(9), at(9, 59)) + heartbeats("cam-door", at(11), at(12))
    )


def report(db: Database, site: Site, **options: Any) -> dict[str, Any]:
    feed = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="Doors",
        since="2026-11-24T09:00:00+00:00",
        until="2026-11-24T12:00:00+00:00",
        **({"metric": "count", "triggers": ("t-enter",)} | options),
    )
    built: dict[str, Any] = feeds.build_report(
        db, feed.token, now=int(NOW.timestamp() * 1000)
    ).as_json()
    data: dict[str, Any] = built["report"]["data"]
    return data


def test_a_silent_hour_is_null_not_zero(db: Database, site: Site) -> None:
    silent_ten_oclock(db, site)
    covered = report(db, site, coverage=True)["series"]
    assert covered == [
        {
            "name": "Enter",
            "data": [
                {"time": "2026-11-24T09:00:00+00:00", "value": 3, "coverage": 1.0},
                {"time": "2026-11-24T10:00:00+00:00", "value": None, "coverage": 0.0},
                {"time": "2026-11-24T11:00:00+00:00", "value": 2, "coverage": 1.0},
            ],
        }
    ]
    # A feed without coverage reads as it always did: a measured 0.
    plain = report(db, site)["series"][0]["data"]
    assert [p["value"] for p in plain] == [3, 0, 2]
    assert "coverage" not in plain[0]
    quarters = report(db, site, coverage=True, granularity="15min")["series"][0]["data"]
    assert [p["value"] for p in quarters[3:9]] == [0, None, None, None, None, 0]
    assert [p["coverage"] for p in quarters[3:9]] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_counter_and_channels_without_heartbeats(db: Database, site: Site) -> None:
    silent_ten_oclock(db, site)
    counter = report(db, site, metric="counter", coverage=True)
    assert counter == {"counter": 5, "coverage": 0.667}
    silent = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="Ten",
        metric="counter",
        triggers=("t-enter",),
        since="2026-11-24T10:00:00+00:00",
        until="2026-11-24T11:00:00+00:00",
        coverage=True,
    )
    built = feeds.build_report(db, silent.token, now=int(NOW.timestamp() * 1000))
    assert built.as_json()["report"]["data"] == {"counter": None, "coverage": 0.0}
    # cam-floor never sent a heartbeat nor an event: its coverage is unknown (null) and
    # its values are what they always were.
    both = report(db, site, coverage=True, triggers=("t-enter", "t-shelf"))["series"]
    shelf = next(s for s in both if s["name"] == "Shelf")["data"]
    assert [(p["value"], p["coverage"]) for p in shelf] == [(0, None)] * 3


def test_the_csv_has_a_coverage_column_per_series_and_empty_cells(db: Database, site: Site) -> None:
    silent_ten_oclock(db, site)
    feed = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="Doors",
        metric="count",
        triggers=("t-enter", "t-exit"),
        since="2026-11-24T09:00:00+00:00",
        until="2026-11-24T12:00:00+00:00",
        coverage=True,
    )
    times, columns = feeds.build_report(db, feed.token, now=int(NOW.timestamp() * 1000)).csv_rows()
    rows = list(csv.reader(io.StringIO(csv_document(times, columns))))
    assert rows == [
        ["Date", "Enter", "Enter coverage", "Exit", "Exit coverage"],
        ["2026-11-24 09:00", "3", "1.0", "0", "1.0"],
        ["2026-11-24 10:00", "", "0.0", "", "0.0"],
        ["2026-11-24 11:00", "2", "1.0", "0", "1.0"],
    ]


def test_the_cli_takes_coverage(db_url: str, db: Database, site: Site) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "feeds", "create", "--db", db_url, "--location", str(site.location_id),
            "--name", "Doors", "--metric", "count", "--coverage", "--json",
        ],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["feeds", "list", "--db", db_url, "--json"])
    assert [f["coverage"] for f in msgspec.json.decode(listed.output)["feeds"]] == [True]
