"""The dashboard and coverage, on both engines: an hour no camera was watching is a gap
(hatched and marked in the charts, stated in the coverage table), and an operator's head
count is taken from the location page and shown in the counters' audit trail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import msgspec

from footfall.config import Settings
from footfall.services import dashboard, drift, occupancy
from footfall.services.ingest import Ingest
from footfall.store.db import Database
from footfall.store.locations import get_location
from footfall.web import charts
from tests.conftest import RunningServer, make_site
from tests.helpers import ManualClock, event, heartbeats, ingest_directly, recent

ZONE = ZoneInfo("America/New_York")


def test_an_offline_hour_is_a_gap_and_the_table_says_so(db: Database) -> None:
    site = make_site(db, timezone="America/New_York")
    day = datetime(2026, 11, 24, tzinfo=ZONE)
    now = day.replace(hour=12, minute=30)
    clock = ManualClock(now)
    ingest_directly(
        db,
        site.location_id,
        [event(1, when=day.replace(hour=9, minute=5)), event(2, when=day.replace(hour=11))],
        clock=clock,
    )
    beats = heartbeats("cam-door", day.replace(hour=8), day.replace(hour=9, minute=59))
    beats += heartbeats("cam-door", day.replace(hour=11), now)
    ingest = Ingest(db, clock, retention_days=3650)
    with db.read() as conn:
        location = get_location(conn, site.location_id)
    assert location is not None
    ingest.post_heartbeat(location, msgspec.json.encode({"channels": beats}))
    ingest.close()

    detail = dashboard.location_detail(db, site.location_id, now=clock())
    assert detail is not None
    today_gaps = detail.entries_gaps[0]
    assert [h for h, gap in zip(detail.hours, today_gaps, strict=True) if gap] == ["10"]
    assert not any(detail.entries_gaps[1])  # last week: nothing known, no gap claimed
    states = dict(next(cells for name, cells in detail.coverage_rows if name == "Entrance"))
    assert (states["07"], states["08"], states["09"], states["10"]) == (
        "unknown",
        "complete",
        "complete",
        "none",
    )
    # The hour in progress is judged on its elapsed part (covered up to now).
    assert (states["11"], states["12"], states["13"]) == ("complete", "complete", "future")
    svg = charts.bar_chart(
        "Entries per hour",
        detail.hours,
        [("Today", detail.entries_today)],
        chart_id="entries-chart",
        gaps=detail.entries_gaps[:1],
    )
    gap_bars = re.findall(r'<rect class="bar[^>]*data-gap="1"', svg)
    assert len(gap_bars) == 1
    assert 'data-label="10"' in gap_bars[0]
    assert 'data-value="0"' in gap_bars[0]  # the count stays the API's
    assert "no coverage" in svg
    assert detail.entries_today[9] == 1


def test_an_operator_calibrates_from_the_location_page_and_sees_the_trail(
    db_url: str, db: Database
) -> None:
    admin = "an-operator-token-of-32-characters"
    site = make_site(db, timezone="America/New_York")
    ingest_directly(db, site.location_id, [event(1, when=recent(1)), event(2, when=recent(1))])
    far_from_now = (datetime.now(ZONE) + timedelta(hours=12)).strftime("%H:%M")  # no reset soon
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Floor",
        enter=("t-enter",),
        exit_=("t-exit",),
        reset=far_from_now,
    )
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=admin)
    with (
        RunningServer(settings, db) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        assert http.post("/login", data={"token": admin, "next": "/"}).status_code == 303
        page = http.get(f"/locations/{site.location_id}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "location_id": str(site.location_id)}
        refused = http.post(
            "/occupancy/calibrate",
            data={**form, "counter_id": str(counter.id), "value": "lots", "by": "dana"},
        )
        assert refused.status_code == 303
        assert "whole+number" in refused.headers["location"]
        done = http.post(
            "/occupancy/calibrate",
            data={**form, "counter_id": str(counter.id), "value": "5", "by": "dana"},
        )
        assert done.status_code == 303
        assert http.post("/occupancy/calibrate", data={**form, "csrf": "x"}).status_code == 403
        page = http.get(f"/locations/{site.location_id}").text
    [row] = drift.audit_trail(db, counter_id=counter.id)
    assert (row.actor, row.value_before, row.value_after) == ("dana", 2, 5)
    trail = page[page.index('id="audit"') :]
    assert "dana" in trail
    assert "2 → 5" in trail
