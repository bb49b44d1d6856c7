"""Occupancy counters and queues (docs/api.md, Occupancy counters, Queues and Extensions), on both
engines."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.times import format_local, parse_zone, to_ms
from footfall.services import occupancy
from footfall.store.db import Database
from tests.conftest import Site, make_site
from tests.helpers import Signer, event, ingest_directly, ok, post_events, put_config
from tests.zone_reference import reference_completed_stays, reference_events, reference_inside

runner = CliRunner()


def cli(*args: str, ok_exit: bool = True) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    if ok_exit:
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)
    return result


def test_cli_create_list_delete(db_url: str, db: Database, site: Site) -> None:
    _declare(db, site)
    loc = str(site.location_id)
    line = cli(
        "occupancy",
        "create",
        "--location",
        loc,
        "--name",
        "Shop",
        "--enter",
        "t-enter",
        "--exit",
        "t-exit",
        "--capacity",
        "50",
        "--reset",
        "06:30",
        "--db",
        db_url,
    )
    assert line == {
        "id": line["id"],
        "location_id": site.location_id,
        "name": "Shop",
        "enter": ["t-enter"],
        "exit": ["t-exit"],
        "zone": None,
        "capacity": 50,
        "reset": "06:30",
        "max_idle": None,
    }
    zone = cli(
        "occupancy",
        "create",
        "--location",
        loc,
        "--name",
        "Shelf",
        "--zone",
        "t-shelf",
        "--db",
        db_url,
    )
    assert zone["zone"] == "t-shelf"
    assert zone["reset"] == "00:00"
    queue = cli(
        "queues",
        "create",
        "--location",
        loc,
        "--name",
        "Tills",
        "--zone",
        "t-shelf",
        "--db",
        db_url,
    )
    assert queue == {
        "id": queue["id"],
        "location_id": site.location_id,
        "name": "Tills",
        "zone": "t-shelf",
    }
    assert [c["id"] for c in cli("occupancy", "list", "--db", db_url)["counters"]] == [
        line["id"],
        zone["id"],
    ]
    assert [q["id"] for q in cli("queues", "list", "--db", db_url)["queues"]] == [queue["id"]]
    cli("occupancy", "delete", str(zone["id"]), "--db", db_url)
    cli("queues", "delete", str(queue["id"]), "--db", db_url)
    assert len(cli("occupancy", "list", "--db", db_url)["counters"]) == 1
    assert cli("queues", "list", "--db", db_url)["queues"] == []

    refusals = [
        (
            ["occupancy", "create", "--location", loc, "--name", "x", "--zone", "t-enter"],
            "is a Line trigger; expected Zone",
        ),
        (
            [
                "occupancy",
                "create",
                "--location",
                loc,
                "--name",
                "x",
                "--enter",
                "t-shelf",
                "--exit",
                "t-exit",
            ],
            "is a Zone trigger; expected Line",
        ),
        (
            ["occupancy", "create", "--location", loc, "--name", "x", "--enter", "t-enter"],
            "needs both --enter and --exit",
        ),
        (
            [
                "occupancy",
                "create",
                "--location",
                loc,
                "--name",
                "x",
                "--enter",
                "t-enter",
                "--exit",
                "t-exit",
                "--zone",
                "t-shelf",
            ],
            "either --enter and --exit",
        ),
        (
            ["occupancy", "create", "--location", loc, "--name", "x", "--zone", "t-nope"],
            "has no trigger 't-nope'",
        ),
        (
            [
                "occupancy",
                "create",
                "--location",
                loc,
                "--name",
                "x",
                "--zone",
                "t-shelf",
                "--reset",
                "24:00",
            ],
            "--reset",
        ),
        (
            [
                "occupancy",
                "create",
                "--location",
                loc,
                "--name",
                "x",
                "--zone",
                "t-shelf",
                "--capacity",
                "0",
            ],
            "--capacity",
        ),
        (
            ["occupancy", "create", "--location", "999", "--name", "x", "--zone", "t-shelf"],
            "no location 999",
        ),
        (
            ["queues", "create", "--location", loc, "--name", "x", "--zone", "t-enter"],
            "expected Zone",
        ),
        (["occupancy", "delete", "12345"], "no occupancy counter 12345"),
        (["queues", "delete", "12345"], "no queue 12345"),
    ]
    for args, words in refusals:
        result = runner.invoke(app, [*args, "--db", db_url])
        assert result.exit_code == 1, (args, result.output)
        assert words in result.stderr, (args, result.stderr)


def _declare(db: Database, site: Site) -> None:
    ingest_directly(db, site.location_id)


def test_signed_endpoints_answer_live_values(http: httpx.Client, db: Database) -> None:
    site = make_site(db, timezone="Asia/Kolkata")
    put_config(http, site.ingest_token)
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop",
        enter=("t-enter",),
        exit_=("t-exit",),
        capacity=40,
    )
    zone_counter = occupancy.create_counter(
        db, location_id=site.location_id, name="Shelf", zone="t-shelf"
    )
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Tills", zone="t-shelf")
    now = datetime.now(UTC)
    batch = [
        event(1, when=now - timedelta(minutes=30)),
        event(2, when=now - timedelta(minutes=20)),
        event(3, trigger="t-exit", when=now - timedelta(minutes=10)),
        event(
            4,
            trigger="t-shelf",
            event_type="RegionJoin",
            object_id=7,
            when=now - timedelta(minutes=9),
        ),
        event(
            5,
            trigger="t-shelf",
            event_type="RegionLeave",
            object_id=7,
            when=now - timedelta(minutes=5),
        ),
        event(
            6,
            trigger="t-shelf",
            event_type="RegionJoin",
            object_id=8,
            when=now - timedelta(minutes=2),
        ),
    ]
    ok(post_events(http, site.ingest_token, batch))
    signer = Signer(site.public_key, site.secret)
    zone = parse_zone("Asia/Kolkata")
    counters = ok(signer.get(http, "/occupancy", f"location_id={site.location_id}"))
    assert counters == [
        {
            "id": counter.id,
            "name": "Shop",
            "location_id": site.location_id,
            "occupancy": 1,
            "capacity": 40,
            "time": format_local(to_ms(now - timedelta(minutes=10)), zone),
            "calibrated_at": None,  # never calibrated
        },
        {
            "id": zone_counter.id,
            "name": "Shelf",
            "location_id": site.location_id,
            "occupancy": 1,
            "capacity": None,
            "time": format_local(to_ms(now - timedelta(minutes=2)), zone),
            "calibrated_at": None,
        },
    ]
    assert ok(signer.get(http, "/queues")) == [
        {
            "id": queue.id,
            "name": "Tills",
            "location_id": site.location_id,
            "length": 1,
            "wait_time": 240.0,
            "time": format_local(to_ms(now - timedelta(minutes=2)), zone),
        },
    ]
    other = make_site(db, name="Rival")
    rival = Signer(other.public_key, other.secret)
    assert rival.get(http, "/occupancy", f"location_id={site.location_id}").json()["code"] == 5
    assert ok(rival.get(http, "/queues")) == []


def test_daily_reset_and_four_hour_close(db: Database) -> None:
    site = make_site(db, timezone="America/New_York")
    _declare(db, site)
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop",
        enter=("t-enter",),
        exit_=("t-exit",),
        reset="06:00",
    )
    zone_counter = occupancy.create_counter(
        db, location_id=site.location_id, name="Shelf", zone="t-shelf"
    )
    ny = parse_zone("America/New_York")
    reset = to_ms(datetime(2026, 3, 9, 6, 0, tzinfo=ny))  # the day after the DST change
    batch = [
        event(1, when=datetime(2026, 3, 9, 5, 0, tzinfo=ny)),
        event(2, when=datetime(2026, 3, 9, 6, 0, tzinfo=ny)),  # exactly at reset: earlier
        event(3, when=datetime(2026, 3, 9, 6, 0, 0, 1000, tzinfo=ny)),
        event(
            4,
            trigger="t-shelf",
            event_type="RegionJoin",
            object_id=1,
            when=datetime(2026, 3, 9, 7, 0, tzinfo=ny),
        ),
    ]
    ingest_directly(db, site.location_id, batch, clock=lambda: reset + 10 * 3_600_000)
    with db.read() as conn:
        value = occupancy.counter_value(conn, counter, ny, reset + 3_600_000)
        assert (value.occupancy, value.changed_at) == (1, reset + 1)
        before = occupancy.counter_value(conn, counter, ny, reset)
        assert before.occupancy == 2  # at the reset instant the old period still holds
        shelf = occupancy.counter_value(conn, zone_counter, ny, reset + 3 * 3_600_000)
        assert shelf.occupancy == 1
        join = reset + 3_600_000
        closed = occupancy.counter_value(conn, zone_counter, ny, join + 4 * 3_600_000 + 1)
        assert (closed.occupancy, closed.changed_at) == (0, join + 4 * 3_600_000)
        nothing = occupancy.counter_value(conn, counter, ny, reset + 30 * 3_600_000)
        assert (nothing.occupancy, nothing.changed_at) == (0, reset + 24 * 3_600_000)


crossing = st.tuples(st.integers(0, 6 * 3600), st.booleans())  # seconds before now, enter?
zone_event = st.tuples(
    st.integers(0, 6 * 3600),
    st.integers(1, 4),
    st.booleans(),  # seconds, object, join?
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    crossings=st.lists(crossing, max_size=25),
    zone_events=st.lists(zone_event, max_size=25),
    batches=st.integers(1, 5),
    seed=st.integers(0, 10**6),
    reset_hour=st.integers(0, 23),
)
def test_values_equal_a_brute_force_recount_after_every_batch(
    db: Database,
    crossings: list[tuple[int, bool]],
    zone_events: list[tuple[int, int, bool]],
    batches: int,
    seed: int,
    reset_hour: int,
) -> None:
    zone_name = "Asia/Kolkata"
    tz = parse_zone(zone_name)
    site = make_site(db, timezone=zone_name)
    _declare(db, site)
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop",
        enter=("t-enter",),
        exit_=("t-exit",),
        reset=f"{reset_hour:02d}:00",
    )
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Q", zone="t-shelf")
    now = to_ms(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    payload: list[dict[str, Any]] = []
    for i, (ago, is_enter) in enumerate(crossings):
        payload.append(
            event(
                i + 1,
                trigger="t-enter" if is_enter else "t-exit",
                when=format_local(now - ago * 1000, tz),
            )
        )
    for i, (ago, obj, is_join) in enumerate(zone_events):
        payload.append(
            event(
                1000 + i,
                trigger="t-shelf",
                object_id=obj,
                event_type="RegionJoin" if is_join else "RegionLeave",
                when=format_local(now - ago * 1000, tz),
            )
        )
    random.Random(seed).shuffle(payload)
    cut = sorted(
        random.Random(seed + 1).sample(range(1, len(payload) + 1), min(batches, len(payload)))
    )
    sent: list[dict[str, Any]] = []
    start = 0
    for end in [*cut, len(payload)] if payload else [0]:
        part = payload[start:end]
        start = end
        ingest_directly(db, site.location_id, part, clock=lambda: now)
        sent.extend(part)
        with db.read() as conn:
            line = occupancy.counter_value(conn, counter, tz, now)
            waiting = occupancy.queue_value(conn, queue, now)
        assert (line.occupancy, line.changed_at) == _brute_line(sent, now, tz, reset_hour)
        length, wait = _brute_queue(sent, now)
        assert (waiting.length, waiting.wait_time) == (length, wait)


def _ms(e: dict[str, Any]) -> int:
    return to_ms(datetime.fromisoformat(e["event_time"]))


def _brute_line(sent: list[dict[str, Any]], now: int, tz: Any, reset_hour: int) -> tuple[int, int]:
    local_now = datetime.fromtimestamp(now / 1000, tz)
    reset = local_now.replace(hour=reset_hour, minute=0, second=0, microsecond=0)
    if to_ms(reset) >= now:
        reset -= timedelta(days=1)
    start = to_ms(reset)
    moves = sorted(
        (_ms(e), 1 if e["trigger_id"] == "t-enter" else -1)
        for e in sent
        if e["trigger_id"] in ("t-enter", "t-exit") and start < _ms(e) <= start + 86_400_000
    )
    value, changed, balance = 0, start, 0
    times = sorted({t for t, _ in moves})
    for t in times:
        balance += sum(d for u, d in moves if u == t)
        if max(0, balance) != value:
            value, changed = max(0, balance), t
    return value, changed


def _brute_queue(sent: list[dict[str, Any]], now: int) -> tuple[int, float]:
    events = reference_events(sent, "t-shelf")
    inside = len(reference_inside(events, now))
    waits = [
        end - start
        for _, start, end in reference_completed_stays(events)
        if end > now - 15 * 60_000
    ]
    return inside, round(sum(waits) / len(waits) / 1000, 1) if waits else 0.0
