"""Drift of line counters, on both engines: an operator's calibration, a max
idle after which a quiet counter goes back to 0, and the audit trail of both."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.read_params import Params
from footfall.domain.times import format_local, to_ms
from footfall.services import drift, feeds, occupancy
from footfall.services.drift import IdleResetAudit
from footfall.services.errors import ServiceError
from footfall.services.reads import ReadApi
from footfall.store.db import Database
from tests.conftest import Site, make_site
from tests.helpers import ManualClock, event, ingest_directly

ZONE = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 11, 24, tzinfo=ZONE)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


def ms(moment: datetime) -> int:
    return to_ms(moment)


def crossings(first: int, enters: list[datetime], exits: list[datetime]) -> list[dict[str, Any]]:
    out = [event(first + i, when=w) for i, w in enumerate(enters)]
    out += [event(first + 100 + i, trigger="t-exit", when=w) for i, w in enumerate(exits)]
    return out


@pytest.fixture
def shop(db: Database) -> Site:
    return make_site(db, timezone="Europe/Paris")


def value(db: Database, shop: Site, clock: ManualClock) -> dict[str, Any]:
    items = ReadApi(db, clock).occupancy(shop.account_id, Params(location_ids=(shop.location_id,)))
    assert len(items) == 1
    answer: dict[str, Any] = msgspec.to_builtins(items[0])
    return answer


def test_calibration_is_effective_at_once_and_logged(db: Database, shop: Site) -> None:
    clock = ManualClock(at(14))
    ingest_directly(
        db,
        shop.location_id,
        crossings(1, [at(9, m) for m in range(15)], [at(10, 5)] * 3),
        clock=clock,
    )
    counter = occupancy.create_counter(
        db, location_id=shop.location_id, name="Floor", enter=("t-enter",), exit_=("t-exit",)
    )
    assert value(db, shop, clock)["occupancy"] == 12
    done = drift.calibrate(db, counter.id, 7, by="alice", clock=clock)
    assert (done.occupancy, done.calibrated_at, done.changed_at) == (7, ms(at(14)), ms(at(14)))
    shown = value(db, shop, clock)
    assert shown["occupancy"] == 7
    assert shown["calibrated_at"] == "2026-11-24T14:00:00.000+01:00"
    assert shown["time"] == shown["calibrated_at"]
    [row] = drift.audit_trail(db, counter_id=counter.id)
    assert (row.kind, row.actor, row.at, row.value_before, row.value_after) == (
        "calibration",
        "alice",
        ms(at(14)),
        12,
        7,
    )
    # After it, crossings count from the head count; one from before it that arrives late
    # was in the head count already.
    clock.advance(600)
    ingest_directly(db, shop.location_id, crossings(50, [at(14, 5), at(13, 50)], []), clock=clock)
    assert value(db, shop, clock)["occupancy"] == 8
    # The next daily reset starts from 0 again: the calibration is no longer in effect.
    clock.set(at(23, 59) + timedelta(minutes=2))
    after_midnight = value(db, shop, clock)
    assert (after_midnight["occupancy"], after_midnight["calibrated_at"]) == (0, None)


def test_a_quiet_counter_goes_back_to_zero_and_the_trail_follows_the_events(
    db_url: str, db: Database, shop: Site
) -> None:
    clock = ManualClock(at(20, 40))
    ingest_directly(
        db,
        shop.location_id,
        crossings(1, [at(20), at(20, 1), at(20, 2)], [at(20, 30)]),
        clock=clock,
    )
    counter = occupancy.create_counter(
        db,
        location_id=shop.location_id,
        name="Floor",
        enter=("t-enter",),
        exit_=("t-exit",),
        max_idle="1h",
    )
    audit = IdleResetAudit(db, clock=clock)
    assert value(db, shop, clock)["occupancy"] == 2
    clock.set(at(21, 29))
    assert value(db, shop, clock)["occupancy"] == 2
    assert audit.run() == 0
    clock.set(at(21, 31))
    reset = value(db, shop, clock)
    assert (reset["occupancy"], reset["time"]) == (0, "2026-11-24T21:30:00.000+01:00")
    # Two processes audit at the same time: the reset is written once.
    other_db = Database(db_url)
    try:
        runs = [IdleResetAudit(db, clock=clock), IdleResetAudit(other_db, clock=clock)]
        threads = [threading.Thread(target=r.run) for r in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other_db.dispose()
    assert audit.run() == 0
    [row] = drift.audit_trail(db, counter_id=counter.id)
    assert (row.kind, row.actor, row.at, row.value_before, row.value_after, row.withdrawn_at) == (
        "idle_reset",
        "max-idle",
        ms(at(21, 30)),
        2,
        0,
        None,
    )
    assert row.note == "no crossing for 1h"
    # A crossing of 21:00 that arrives late shows the shop was not idle then: the reset
    # moves to 22:00 and the trail says the first one did not happen.
    clock.set(at(21, 45))
    ingest_directly(db, shop.location_id, crossings(9, [at(21)], []), clock=clock)
    assert value(db, shop, clock)["occupancy"] == 3
    assert audit.run() == 1
    [withdrawn] = drift.audit_trail(db, counter_id=counter.id)
    assert withdrawn.withdrawn_at == ms(at(21, 45))
    clock.set(at(22, 1))
    assert value(db, shop, clock)["occupancy"] == 0
    assert audit.run() == 1
    newest = drift.audit_trail(db, counter_id=counter.id)[0]
    assert (newest.at, newest.value_before, newest.withdrawn_at) == (ms(at(22)), 3, None)


def test_more_exits_than_enters_are_reset_too_and_peaks_follow_drift(
    db: Database, shop: Site
) -> None:
    clock = ManualClock(at(10, 30))
    ingest_directly(
        db,
        shop.location_id,
        crossings(1, [at(8, 10)], [at(8, 20), at(8, 21)])  # a missed enter: shows 0
        + crossings(20, [at(10, 0), at(10, 1)], []),  # after the idle reset at 9:21: 2
        clock=clock,
    )
    counter = occupancy.create_counter(
        db,
        location_id=shop.location_id,
        name="Floor",
        enter=("t-enter",),
        exit_=("t-exit",),
        max_idle="1h",
    )
    assert value(db, shop, clock)["occupancy"] == 2  # without the reset it would be 1
    assert IdleResetAudit(db, clock=clock).run() == 1
    [row] = drift.audit_trail(db, counter_id=counter.id)
    assert (row.at, row.value_before) == (ms(at(9, 21)), 0)
    assert row.note == "no crossing for 1h (exits exceeded enters by 1)"
    drift.calibrate(db, counter.id, 10, by="bob", clock=clock)
    feed = feeds.create_feed(
        db,
        location_id=shop.location_id,
        name="Peaks",
        metric="occupancy",
        since=format_local(ms(at(8)), ZONE),
        until=format_local(ms(at(12)), ZONE),
    )
    # At noon: the head count of 10:30 and, an hour later with no crossing, back to 0.
    report = feeds.build_report(db, feed.token, now=ms(at(12))).as_json()["report"]
    peaks = [p["value"] for p in report["data"]["series"][0]["data"]]
    assert peaks == [1, 0, 10, 10]
    assert value(db, shop, ManualClock(at(12)))["occupancy"] == 0


def test_bad_calibrations_and_max_idle_are_refused_clearly(db: Database, shop: Site) -> None:
    ingest_directly(db, shop.location_id, [event(1)])
    zone = occupancy.create_counter(db, location_id=shop.location_id, name="Shelf", zone="t-shelf")
    line = occupancy.create_counter(
        db, location_id=shop.location_id, name="Floor", enter=("t-enter",), exit_=("t-exit",)
    )
    for call, message in (
        (lambda: drift.calibrate(db, zone.id, 3, by="a"), "apply to line counters"),
        (lambda: drift.calibrate(db, line.id, -1, by="a"), "--value -1: expected a head"),
        (lambda: drift.calibrate(db, line.id, 3, by=" "), "--by ' '"),
        (lambda: drift.calibrate(db, 999, 3, by="a"), "no occupancy counter 999"),
        (lambda: drift.set_max_idle(db, line.id, "2 hours", by="a"), "--max-idle '2 hours'"),
        (lambda: drift.set_max_idle(db, line.id, "30s", by="a"), "between 1m and 24h"),
        (lambda: drift.set_max_idle(db, zone.id, "2h", by="a"), "apply to line counters"),
    ):
        with pytest.raises(ServiceError, match=message):
            call()
    with pytest.raises(ServiceError, match="--max-idle applies to line counters"):
        occupancy.create_counter(
            db, location_id=shop.location_id, name="Z", zone="t-shelf", max_idle="1h"
        )
    assert drift.audit_trail(db) == []


def test_the_cli_calibrates_updates_and_lists_the_trail(
    db_url: str, db: Database, shop: Site
) -> None:
    ingest_directly(db, shop.location_id, [event(1)])
    runner = CliRunner()

    def cli(*args: str) -> Any:
        done = runner.invoke(app, [*args, "--db", db_url, "--json"])
        assert done.exit_code == 0, done.output
        return json.loads(done.output)

    made = cli(
        "occupancy", "create", "--location", str(shop.location_id), "--name", "Floor",
        "--enter", "t-enter", "--exit", "t-exit", "--max-idle", "90m",
    )  # fmt: skip
    assert made["max_idle"] == "1h30m"
    calibrated = cli("occupancy", "calibrate", str(made["id"]), "--value", "4", "--by", "carol")
    assert (calibrated["occupancy"], calibrated["by"]) == (4, "carol")
    updated = cli("occupancy", "update", str(made["id"]), "--max-idle", "off", "--by", "carol")
    assert updated["max_idle"] is None
    trail = cli("occupancy", "audit", "--counter", str(made["id"]))["audit"]
    kinds = {a["kind"]: a for a in trail}
    assert set(kinds) == {"calibration", "max_idle"}
    assert (kinds["calibration"]["by"], kinds["calibration"]["after"]) == ("carol", 4)
    assert kinds["calibration"]["note"].startswith("head count 4")
    assert (kinds["max_idle"]["by"], kinds["max_idle"]["note"]) == ("carol", "max idle off")
    refused = runner.invoke(
        app, ["occupancy", "calibrate", str(made["id"]), "--value", "x", "--db", db_url]
    )
    assert refused.exit_code != 0
    assert "--value" in refused.output


def test_a_counter_that_fails_its_audit_is_left_alone_and_the_others_go_on(
    db: Database, shop: Site, caplog: pytest.LogCaptureFixture
) -> None:
    other = make_site(db, timezone="Europe/Paris", name="Other")
    clock = ManualClock(at(12))
    counters = []
    for site in (shop, other):
        ingest_directly(db, site.location_id, crossings(1, [at(9)], []), clock=clock)
        counters.append(
            occupancy.create_counter(
                db,
                location_id=site.location_id,
                name="Floor",
                enter=("t-enter",),
                exit_=("t-exit",),
                max_idle="1h",
            )
        )
    with db.write() as conn:  # a zone that no longer parses: the counter cannot be computed
        conn.execute(
            text("UPDATE locations SET timezone = 'Mars/Olympus' WHERE id = :id"),
            {"id": shop.location_id},
        )
    audit = IdleResetAudit(db, clock=clock)
    assert audit.run() == 1  # the other counter's reset at 10:00
    assert f"occupancy audit: counter {counters[0].id} failed" in caplog.text
    assert [r.counter_id for r in drift.audit_trail(db)] == [counters[1].id]
    with db.write() as conn:
        conn.execute(
            text("UPDATE locations SET timezone = 'Europe/Paris' WHERE id = :id"),
            {"id": shop.location_id},
        )
    assert audit.run() == 0  # backing off for a minute
    clock.advance(61)
    assert audit.run() == 1
