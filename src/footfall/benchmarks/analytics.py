"""Histogram computation: one local day of hourly histograms for 50 zone
triggers holding 100k zone events, beside the time merely to read those events from the
database with the same queries (the plain path: a job must at least read its input).
Targets: at most 4x the read time, enforced by `footfall bench --check`, and under 2 s
(absolute, on a quiet machine, judged in the table). The 4x is argued in
docs/benchmarks.md ("Targets argued"): the job costs about 2.95x its read in CPU time at
the quick scale (4.11x before its writes went straight to the driver and its sweep
stopped building a histogram per quarter-hour) and 2.0-3.4x in wall time on quiet runs, so
a 3x bound sits inside the spread of the same code, while 4x fails the code before.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from footfall.benchmarks.harness import new_site
from footfall.benchmarks.report import Ratio, Row
from footfall.domain.times import format_local, parse_zone, to_ms
from footfall.services.analytics import compute_histograms
from footfall.services.ingest import ingest_locally
from footfall.store import zones as zone_store
from footfall.store.db import Database

__all__ = ["run"]

ZONE_NAME = "Europe/Paris"
# Above every quiet run of the job (2.0-3.4x), below the code before it (4.1x in CPU time)
# and far below the 8.5-9.6x regression (docs/benchmarks.md, Targets argued).
TARGET = Ratio(most=4.0)


def _config(triggers: int) -> dict[str, Any]:
    return {
        "version": "bench",
        "channels": [
            {
                "id": "cam-zones",
                "name": "Zones",
                "triggers": [
                    {"id": f"t-z{i:02d}", "name": f"Zone {i}", "type": "Zone"}
                    for i in range(triggers)
                ],
            }
        ],
    }


def _day_of_stays(day: date, triggers: int, events: int, seed: int = 5) -> list[dict[str, Any]]:
    zone = parse_zone(ZONE_NAME)
    start = to_ms(datetime.combine(day, datetime.min.time(), tzinfo=zone))
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    per_trigger = events // triggers // 2
    record = 0
    for t in range(triggers):
        for n in range(per_trigger):
            join = start + rng.randrange(0, 86_000_000)
            dwell = int(min(3 * 3600, 90 * rng.lognormvariate(0, 0.8)) * 1000)
            leave = min(join + dwell, start + 86_399_999)  # the whole stay inside the day
            for kind, when in (("RegionJoin", join), ("RegionLeave", leave)):
                record += 1
                out.append(
                    {
                        "record_id": record,
                        "event_type": kind,
                        "trigger_id": f"t-z{t:02d}",
                        "channel_id": "cam-zones",
                        "object_id": n,
                        "event_time": format_local(when, zone),
                    }
                )
    return out


def run(quick: bool = False) -> list[Row]:
    triggers, events = (50, 100_000) if not quick else (50, 30_000)
    zone = parse_zone(ZONE_NAME)
    day = datetime.now(zone).date() - timedelta(days=2)
    day_end = to_ms(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone))
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'analytics.db'}", timezone=ZONE_NAME)
        db = Database(site.db_url)
        payload = _day_of_stays(day, triggers, events)
        ingest_locally(
            db,
            site.location_id,
            (payload[k : k + 10_000] for k in range(0, len(payload), 10_000)),
            config=_config(triggers),
        )
        day_start = day_end - 24 * 3_600_000  # no DST change two days back is assumed here
        started = time.perf_counter()
        with db.read() as conn:
            read = sum(
                len(
                    zone_store.read_zone_events(
                        conn, site.location_id, f"t-z{t:02d}", day_start - 3_600_000, day_end
                    )
                )
                for t in range(triggers)
            )
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        outcome = compute_histograms(db, clock=lambda: day_end + 60_000)
        compute_s = time.perf_counter() - started
        db.dispose()
    assert read == len(payload)
    assert outcome.triggers == triggers
    return [
        Row(
            name=f"histograms: 1 day x {triggers} zones, {len(payload) // 1000}k events",
            figure=compute_s * 1000,
            unit="ms",
            baseline_name="reading the events",
            baseline=read_s * 1000,
            target=f"< 2,000 ms and {TARGET}",
            ok=compute_s < 2 and TARGET.met(compute_s / read_s),
            check=TARGET,
        )
    ]
