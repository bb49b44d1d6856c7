"""The dashboard shows gaps as gaps (issue 17), on both engines: an hour no camera was
watching is hatched and marked in the charts, and the coverage table states each hour."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from footfall.services import dashboard
from footfall.services.ingest import Ingest
from footfall.store.db import Database
from footfall.store.locations import get_location
from footfall.web import charts
from tests.conftest import make_site
from tests.helpers import ManualClock, event, heartbeats, ingest_directly

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
