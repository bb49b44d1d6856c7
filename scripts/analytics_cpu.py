"""The histogram job's cost beside reading its events, in CPU seconds of this process.

The same data and the same two measurements as `footfall bench` (benchmarks/analytics.py:
a day of 50 zone triggers with 100k events, on SQLite), but each repeated on a fresh
copy of the database and timed with `time.process_time`: on a machine shared with other
work, wall time mostly measures the queue for a core. Prints the least of each.

    .venv-test/bin/python scripts/analytics_cpu.py [REPEATS]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from footfall.benchmarks import analytics as bench
from footfall.benchmarks.harness import new_site
from footfall.domain.times import parse_zone, to_ms
from footfall.services.analytics import compute_histograms
from footfall.services.ingest import ingest_locally
from footfall.store import zones as zone_store
from footfall.store.db import Database

TRIGGERS, EVENTS = 50, 100_000


def main(repeats: int) -> None:
    zone = parse_zone(bench.ZONE_NAME)
    day = datetime.now(zone).date() - timedelta(days=2)
    day_end = to_ms(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone))
    day_start = day_end - 24 * 3_600_000
    with tempfile.TemporaryDirectory() as tmp:
        work, pristine = Path(tmp) / "work", Path(tmp) / "pristine"
        work.mkdir()
        site = new_site(f"sqlite:///{work / 'a.db'}", timezone=bench.ZONE_NAME)
        db = Database(site.db_url)
        sent = bench._day_of_stays(day, TRIGGERS, EVENTS)
        batches = (sent[k : k + 10_000] for k in range(0, len(sent), 10_000))
        ingest_locally(db, site.location_id, batches, config=bench._config(TRIGGERS))
        db.dispose()
        shutil.copytree(work, pristine)
        reads, computes = [], []
        for _ in range(repeats):
            shutil.rmtree(work)
            shutil.copytree(pristine, work)
            db = Database(site.db_url)
            started = time.process_time()
            with db.read() as conn:
                for t in range(TRIGGERS):
                    zone_store.read_zone_events(
                        conn, site.location_id, f"t-z{t:02d}", day_start - 3_600_000, day_end
                    )
            reads.append(time.process_time() - started)
            started = time.process_time()
            compute_histograms(db, clock=lambda: day_end + 60_000)
            computes.append(time.process_time() - started)
            db.dispose()
    read, compute = min(reads), min(computes)
    print(
        f"histograms {compute * 1000:.0f} ms CPU beside reading the events {read * 1000:.0f} ms "
        f"CPU: {compute / read:.2f}x (least of {repeats})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
