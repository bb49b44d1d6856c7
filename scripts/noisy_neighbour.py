"""How long a normal location waits for its histograms beside a noisy one, with the
server's own job running (the figure behind tests/integration/test_fair_jobs.py).

A location declares 20,000 Zone triggers and sends one event to each, 3 hours back;
another has 100 visits in the last 2 hours. Then `footfall serve` starts, and this prints
the seconds from its start until the normal location's first histogram is stored, and
the per-location lag the server reports on /metrics at that moment.

    .venv-test/bin/python scripts/noisy_neighbour.py                # SQLite, temporary
    .venv-test/bin/python scripts/noisy_neighbour.py --postgresql postgresql://postgres@127.0.0.1:5432/postgres

`--cap S` gives up after S seconds (to measure an older release that never gets there).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from footfall.benchmarks.harness import ServerProcess, new_site
from footfall.benchmarks.postgresql import scratch_database
from footfall.domain.sealing import new_key_text
from footfall.domain.times import format_local, to_ms
from footfall.services.ingest import ingest_locally
from footfall.services.management import create_account, create_location
from footfall.store.db import Database
from footfall.store.schema import histograms

HOUR = 3_600_000
CHANNELS, PER_CHANNEL = 200, 100  # 20,000 Zone triggers, within the default limits


def _crowded(db: Database, location_id: int, now: int) -> None:
    config = {
        "version": "noisy",
        "channels": [
            {
                "id": f"cam-{c:03d}",
                "triggers": [
                    {"id": f"z-{c:03d}-{t:03d}", "type": "Zone"} for t in range(PER_CHANNEL)
                ],
            }
            for c in range(CHANNELS)
        ],
    }
    keys = [(c, t) for c in range(CHANNELS) for t in range(PER_CHANNEL)]
    events = [
        {
            "record_id": n,
            "event_type": "RegionJoin",
            "trigger_id": f"z-{c:03d}-{t:03d}",
            "channel_id": f"cam-{c:03d}",
            "object_id": 1,
            "event_time": format_local(now - 3 * HOUR + n, UTC),
        }
        for n, (c, t) in enumerate(keys, start=1)
    ]
    ingest_locally(db, location_id, [events[:10_000], events[10_000:]], config=config)


def _normal(db: Database, location_id: int, now: int) -> None:
    config = {
        "version": "normal",
        "channels": [{"id": "cam-floor", "triggers": [{"id": "t-shelf", "type": "Zone"}]}],
    }
    rng = random.Random(7)
    events: list[dict[str, Any]] = []
    for n in range(100):
        joined = now - 2 * HOUR + rng.randrange(0, 2 * HOUR - 700_000)
        for k, (kind, when) in enumerate(
            (("RegionJoin", joined), ("RegionLeave", joined + rng.randrange(10_000, 600_000)))
        ):
            events.append(
                {
                    "record_id": 2 * n + k + 1,
                    "event_type": kind,
                    "trigger_id": "t-shelf",
                    "channel_id": "cam-floor",
                    "object_id": n,
                    "event_time": format_local(when, UTC),
                }
            )
    ingest_locally(db, location_id, [events], config=config)


@contextmanager
def _database(postgresql: str | None) -> Iterator[str]:
    if postgresql:
        with scratch_database(postgresql) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'noisy.db'}"


def _lag_lines(url: str) -> list[str]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return [line for line in text.splitlines() if line.startswith("footfall_analytics_lag")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="a PostgreSQL server (a scratch database is made)")
    parser.add_argument("--cap", type=float, default=600.0, help="give up after this many s")
    args = parser.parse_args()
    os.environ.setdefault("FOOTFALL_SECRET_KEY", new_key_text())
    now = to_ms(datetime.now(UTC))
    with _database(args.postgresql) as url:
        site = new_site(url, secret_key=os.environ["FOOTFALL_SECRET_KEY"])  # migrates
        db = Database(url)
        account = create_account(db, "normal")
        normal = create_location(db, account_id=account.id, name="Normal", timezone="UTC")
        started = time.perf_counter()
        _crowded(db, site.location_id, now)
        _normal(db, normal.location.id, now)
        print(f"set up in {time.perf_counter() - started:.1f} s: 20,000 + 1 zone triggers")
        server = ServerProcess(url).start(timeout=120)
        started = time.perf_counter()
        try:
            waited = None
            while time.perf_counter() - started < args.cap:
                with db.read() as conn:
                    count = conn.execute(
                        select(func.count()).where(histograms.c.location_id == normal.location.id)
                    ).scalar_one()
                if count:
                    waited = time.perf_counter() - started
                    break
                time.sleep(0.1)
            print(
                "normal location's first histogram: "
                + (
                    f"{waited:.1f} s after the server started"
                    if waited
                    else f"none in {args.cap} s"
                )
            )
            for line in _lag_lines(server.url):
                print(f"  {line}")
        finally:
            server.close()
            db.dispose()


if __name__ == "__main__":
    main()
