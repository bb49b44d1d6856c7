"""Report feeds (docs/api.md, Report feeds) on both engines: every metric against a brute-force
computation
over the raw events, DST days, tokens, CSV = JSON."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.feeds import buckets
from footfall.domain.times import format_local, parse_zone, to_ms
from footfall.services import feeds, occupancy
from footfall.services.analytics import compute_histograms
from footfall.services.errors import NotFoundError
from footfall.store.db import Database
from tests.conftest import Site, make_site
from tests.helpers import event, ingest_directly
from tests.zone_reference import reference_completed_stays, reference_events, reference_histograms

HOUR = 3_600_000


def _day_of_traffic(seed: int, day_start: int, zone: Any) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    record = 0
    for _ in range(160):  # crossings, more entries than exits, some exactly on the hour
        record += 1
        when = day_start + rng.randrange(0, 24 * HOUR)
        if rng.random() < 0.1:
            when -= when % HOUR
        trigger = "t-enter" if rng.random() < 0.55 else "t-exit"
        origin = rng.choice([("Pedestrian", "Unknown"), ("Vehicle", "Car"), ("Face", "")])
        out.append(
            event(
                record,
                trigger=trigger,
                origin=origin[0],
                suborigin=origin[1],
                when=format_local(when, zone),
            )
        )
    for obj in range(1, 40):  # zone stays, some long, some without a leave
        join = day_start + rng.randrange(0, 23 * HOUR)
        stay = rng.randrange(1000, 2 * HOUR)
        record += 1
        out.append(
            event(
                record,
                trigger="t-shelf",
                event_type="RegionJoin",
                object_id=obj,
                when=format_local(join, zone),
            )
        )
        if rng.random() < 0.9:
            record += 1
            out.append(
                event(
                    record,
                    trigger="t-shelf",
                    event_type="RegionLeave",
                    object_id=obj,
                    when=format_local(join + stay, zone),
                )
            )
    rng.shuffle(out)
    return out


def _ms(e: dict[str, Any]) -> int:
    return to_ms(datetime.fromisoformat(e["event_time"]))


@pytest.mark.parametrize(
    ("zone_name", "granularity", "seed"),
    [
        ("Asia/Kolkata", "hour", 1),
        ("America/New_York", "15min", 2),
        ("Asia/Kathmandu", "day", 3),
        ("UTC", "hour", 4),
    ],
)
def test_every_metric_equals_a_brute_force_count(
    db: Database, zone_name: str, granularity: str, seed: int
) -> None:
    zone = parse_zone(zone_name)
    site = make_site(db, timezone=zone_name)
    day_start = to_ms(datetime(2026, 3, 7, 0, 0, tzinfo=zone))
    sent = _day_of_traffic(seed, day_start, zone)
    # The report is read in the middle of the day's last-but-one hour: earlier hours come
    # from the job's quarters, that hour live, later buckets are still in the future.
    now = day_start + 22 * HOUR + 17 * 60_000 + 123
    past = [e for e in sent if _ms(e) <= now]
    ingest_directly(db, site.location_id, sent, clock=lambda: day_start + 25 * HOUR)
    compute_histograms(db, clock=lambda: now)
    line = occupancy.create_counter(
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
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Q", zone="t-shelf")
    since = format_local(day_start, zone)
    until = format_local(day_start + 24 * HOUR, zone)
    spans = buckets(day_start, day_start + 24 * HOUR, granularity, zone)

    def report(metric: str, **options: Any) -> dict[str, Any]:
        feed = feeds.create_feed(
            db,
            location_id=site.location_id,
            name=metric,
            metric=metric,
            since=since,
            until=until,
            granularity=granularity,
            **options,
        )
        built: dict[str, Any] = feeds.build_report(db, feed.token, now=now).as_json()["report"]
        return built

    def values(rep: dict[str, Any]) -> dict[str, list[Any]]:
        return {s["name"]: [p["value"] for p in s["data"]] for s in rep["data"]["series"]}

    def future(start: int) -> bool:
        return start > now

    # count, filtered by origin
    counted = values(report("count", triggers=("t-enter", "t-exit"), origins=("Pedestrian",)))
    for trigger, name in (("t-enter", "Enter"), ("t-exit", "Exit")):
        assert counted[name] == [
            None
            if future(a)
            else sum(
                1
                for e in sent
                if e["trigger_id"] == trigger and e["origin"] == "Pedestrian" and a <= _ms(e) < b
            )
            for a, b in spans
        ]
    # counter: everything up to now in the period
    assert report("counter", triggers=("t-enter",))["data"] == {
        "counter": sum(1 for e in past if e["trigger_id"] == "t-enter")
    }
    # line occupancy: peak of max(0, enters - exits) since the 06:00 reset
    measured = values(report("occupancy", occupancy_ids=(line.id,)))["Shop"]
    assert measured == _brute_line_peaks(past, spans, now, zone, day_start)
    # zone occupancy peaks, queue mean length, dwell: from the reference replay
    zone_events = reference_events(sent, "t-shelf")
    clipped = [(a, min(b, now)) for a, b in spans if a <= now]
    histos = reference_histograms(zone_events, clipped, now)
    first_hour = min(_ms(e) for e in sent if e["trigger_id"] == "t-shelf")
    first_hour -= (first_hour - day_start) % HOUR
    peaks = values(report("occupancy", occupancy_ids=(zone_counter.id,)))["Shelf"]
    means = values(report("queue", queue_ids=(queue.id,)))["Q"]
    dwells = values(report("dwell", triggers=("t-shelf",)))["Shelf"]
    stays = reference_completed_stays(zone_events)
    for index, (a, b) in enumerate(spans):
        if future(a) or b <= first_hour:
            assert (peaks[index], means[index]) == (None, None), a
            continue
        counting = histos[a][0]
        assert peaks[index] == len(counting) - 1, a
        start = max(a, first_hour)
        area = sum(k * ms for k, ms in enumerate(counting))
        assert means[index] == round(area / (min(b, now) - start), 2), a
        ended = [end - begin for _, begin, end in stays if a <= end < b and end <= now]
        assert dwells[index] == (round(sum(ended) / len(ended) / 1000, 1) if ended else None)


def _brute_line_peaks(
    past: list[dict[str, Any]],
    spans: list[tuple[int, int]],
    now: int,
    zone: Any,
    day_start: int,
) -> list[Any]:
    crossings = sorted(
        (_ms(e), 1 if e["trigger_id"] == "t-enter" else -1)
        for e in past
        if e["trigger_id"] in ("t-enter", "t-exit")
    )
    resets = [
        to_ms(datetime.fromtimestamp(day_start / 1000, zone).replace(hour=6) + timedelta(days=d))
        for d in (-1, 0, 1)
    ]

    def value(t: int) -> int:  # max(0, enters - exits) over (last reset < t, t]
        reset = max(r for r in resets if r < t)
        return max(0, sum(d for w, d in crossings if reset < w <= t))

    def value_just_after(t: int) -> int:  # a reset at t itself has happened
        reset = max(r for r in resets if r <= t)
        return max(0, sum(d for w, d in crossings if reset < w <= t))

    first = crossings[0][0] - (crossings[0][0] - day_start) % HOUR
    out: list[Any] = []
    for a, b in spans:
        if a > now or b <= first:
            out.append(None)
            continue
        # The bucket's values: from just after its start (never the earlier period's final
        # value when it starts at a reset), at each crossing and just after each reset in it.
        values = [value_just_after(a)]
        values += [value(w) for w, _ in crossings if a < w < min(b, now + 1)]
        values += [value(r + 1) for r in resets if a <= r < min(b, now + 1)]
        out.append(max(values))
    return out


def test_the_first_peak_after_a_reset_starts_from_the_reset(db: Database) -> None:
    site = make_site(db, timezone="UTC")
    day = datetime(2026, 3, 7, tzinfo=UTC)

    def at(hour: int, minute: int) -> str:
        return (day + timedelta(hours=hour, minutes=minute)).isoformat(timespec="milliseconds")

    enters = [at(5, 10), at(5, 20), at(5, 30), at(5, 40), at(6, 0), at(6, 30)]
    ingest_directly(
        db,
        site.location_id,
        [event(n, trigger="t-enter", when=when) for n, when in enumerate(enters, 1)],
        clock=lambda: to_ms(day + timedelta(hours=12)),
    )
    line = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop",
        enter=("t-enter",),
        exit_=("t-exit",),
        reset="06:00",
    )
    feed = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="peaks",
        metric="occupancy",
        occupancy_ids=(line.id,),
        since=at(5, 0),
        until=at(9, 0),
        granularity="hour",
    )
    report = feeds.build_report(db, feed.token, now=to_ms(day + timedelta(hours=10)))
    [series] = report.as_json()["report"]["data"]["series"]
    # 05:00 reaches 4; the crossing at exactly 06:00 is the closing day's (5 at that
    # instant, then the reset): the 06:00 bucket starts from 0 and peaks at 1 (06:30).
    assert [p["value"] for p in series["data"]] == [4, 1, 1, 1]


def test_dst_days_have_23_and_25_hourly_rows(db: Database) -> None:
    site = make_site(db, timezone="America/New_York")
    ingest_directly(db, site.location_id, [event(1, when="2026-11-01T01:30:00-04:00")])
    spring = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="spring",
        metric="count",
        since="2026-03-08T00:00-05:00",
        until="2026-03-09T00:00-04:00",
    )
    fall = feeds.create_feed(
        db,
        location_id=site.location_id,
        name="fall",
        metric="count",
        since="2026-11-01T00:00-04:00",
        until="2026-11-02T00:00-05:00",
    )
    assert len(feeds.build_report(db, spring.token).starts) == 23
    report = feeds.build_report(db, fall.token).as_json()["report"]
    points = report["data"]["series"][0]["data"]
    assert len(points) == 25
    assert [p["time"] for p in points[1:3]] == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    ]
    enter = next(s for s in report["data"]["series"] if s["name"] == "Enter")["data"]
    assert [p["value"] for p in enter[:3]] == [0, 1, 0]
    times, _ = feeds.build_report(db, fall.token).csv_rows()
    assert times[1:3] == ["2026-11-01 01:00", "2026-11-01 01:00"]  # both repeated hours
    assert report["since"] == "2026-11-01T00:00:00.000-04:00"
    assert report["until"] == "2026-11-02T00:00:00.000-05:00"


def test_http_json_csv_tokens_and_revocation(http: httpx.Client, db: Database, site: Site) -> None:
    now = datetime.now(UTC)
    ingest_directly(
        db, site.location_id, [event(i, when=now - timedelta(minutes=i)) for i in range(1, 30)]
    )
    feed = feeds.create_feed(
        db,
        location_id=site.location_id,
        name='Door "A"',
        metric="count",
        triggers=("t-enter",),
        period="today",
        granularity="hour",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", feed.token)
    other = feeds.create_feed(db, location_id=site.location_id, name="x", metric="count")
    assert other.token != feed.token
    as_json = http.get(f"/feed/report/{feed.token}")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    report = as_json.json()["report"]
    assert set(report) == {"name", "metric", "granularity", "since", "until", "data"}
    assert len(report["data"]["series"][0]["data"]) == 24
    as_csv = http.get(f"/feed/report/{feed.token}/csv")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text.startswith('"Date","Enter"\r\n')
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    series = report["data"]["series"][0]["data"]
    assert len(rows) == len(series) + 1
    for row, point in zip(rows[1:], series, strict=True):
        assert row[0] == point["time"][:16].replace("T", " ")
        assert (row[1] == "" and point["value"] is None) or int(row[1]) == point["value"]
    assert sum(int(r[1]) for r in rows[1:] if r[1]) == 29 - sum(
        1 for i in range(1, 30) if (now - timedelta(minutes=i)).astimezone(UTC).date() != now.date()
    )
    for token in ("0" * 32, "nope", feed.token + "0"):
        assert http.get(f"/feed/report/{token}").status_code == 404
        assert http.get(f"/feed/report/{token}/csv").status_code == 404
    feeds.revoke_feed(db, feed.token)
    assert http.get(f"/feed/report/{feed.token}").status_code == 404
    assert http.get(f"/feed/report/{feed.token}/csv").status_code == 404
    with pytest.raises(NotFoundError):
        feeds.revoke_feed(db, feed.token)


def test_cli_create_list_revoke_and_bad_options(db_url: str, db: Database, site: Site) -> None:
    ingest_directly(db, site.location_id)
    runner = CliRunner()
    loc = str(site.location_id)

    def run(*args: str) -> Any:
        return runner.invoke(app, [*args, "--db", db_url])

    made = json.loads(
        run(
            "feeds",
            "create",
            "--location",
            loc,
            "--name",
            "Daily",
            "--metric",
            "count",
            "--period",
            "yesterday",
            "--json",
        ).stdout
    )
    assert made["json_url"] == f"http://127.0.0.1:8000/feed/report/{made['token']}"
    assert made["csv_url"] == made["json_url"] + "/csv"
    listed = json.loads(run("feeds", "list", "--json").stdout)["feeds"]
    # The token is shown once: the list has its first 8 characters, never the URLs.
    assert [f["token_prefix"] for f in listed] == [made["token"][:8]]
    assert made["token"] not in json.dumps(listed)
    for args, words in [
        (["--metric", "people"], "--metric 'people'"),
        (["--metric", "occupancy", "--triggers", "t-enter"], "--triggers does not apply"),
        (["--metric", "queue", "--triggers", "t-enter"], "--triggers does not apply"),
        (["--metric", "count", "--period", "fortnight"], "--period 'fortnight'"),
        (["--metric", "count", "--since", "2026-01-01T00:00"], "--since and --until go"),
        (
            ["--metric", "count", "--since", "2026-01-02T00:00Z", "--until", "2026-01-01T00:00Z"],
            "before --until",
        ),
        (
            ["--metric", "count", "--since", "2026-01-01T00:00", "--until", "2026-01-02T00:00"],
            "add the UTC offset",
        ),
        (["--metric", "count", "--granularity", "week"], "--granularity 'week'"),
        (["--metric", "dwell", "--triggers", "t-enter"], "dwell needs Zone triggers"),
        (["--metric", "count", "--triggers", "t-nope"], "no trigger 't-nope'"),
        (["--metric", "count", "--event-type", "Teleport"], "--event-type 'Teleport'"),
        (["--metric", "occupancy", "--occupancy", "99"], "no counter 99"),
    ]:
        refused = run("feeds", "create", "--location", loc, "--name", "x", *args)
        assert refused.exit_code == 1, args
        assert words in refused.stderr, (args, refused.stderr)
    assert json.loads(run("feeds", "revoke", made["token"], "--json").stdout) == {
        "token": made["token"],
        "revoked": True,
    }
    assert run("feeds", "revoke", made["token"]).exit_code == 1
