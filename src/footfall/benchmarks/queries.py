"""Read-API latency with the throttle off (issue 3): `/totals/triggers` over a 30-day range
at 100k and at 1M stored events, and a 1,000-event `/events` page, each as p50/p95 of
signed requests over real HTTP against `footfall serve` on SQLite.

Baselines from the same run: totals at 1M are compared with totals at 100k (the cost must
follow the hours in the range, not the events), and the page with the smallest signed
request there is (`/locations`).
Targets: totals p50 < 20 ms and < 1.5x slower at 1M than at 100k; the page p50 < 30 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from footfall.benchmarks.harness import new_site, running_server
from footfall.benchmarks.ingest import CONFIG
from footfall.benchmarks.report import Row
from footfall.client import Client
from footfall.domain.times import format_local, now_ms
from footfall.services.ingest import ingest_locally
from footfall.store.db import Database

__all__ = ["run"]

_KINDS = (
    ("t-enter", "cam-door", "TripwireCrossed"),
    ("t-exit", "cam-door", "TripwireCrossed"),
    ("t-shelf", "cam-floor", "RegionJoin"),
    ("t-shelf", "cam-floor", "RegionLeave"),
)
_ORIGINS = (("Pedestrian", "Unknown"), ("Vehicle", "Car"), ("Face", ""))


Filler = Callable[[str, int, int], None]


def stored_events(count: int, days: int = 30) -> Iterator[tuple[int, str, str, str, str, str, int]]:
    """(record_id, event type, trigger, channel, origin, suborigin, event_time ms) of
    `count` events spread evenly over the last `days` days."""
    end = now_ms() - 60_000
    step = days * 86_400_000 // count
    for i in range(count):
        trigger, channel, kind = _KINDS[i % 4]
        origin, sub = _ORIGINS[i % 3]
        yield i + 1, kind, trigger, channel, origin, sub, end - (count - i) * step


def fill(db_url: str, location_id: int, count: int) -> None:
    """`count` events (`stored_events`) through the ingest service."""

    def batches() -> Iterator[list[dict[str, Any]]]:
        events: list[dict[str, Any]] = []
        for record_id, kind, trigger, channel, origin, sub, when in stored_events(count):
            events.append(
                {
                    "record_id": record_id,
                    "event_type": kind,
                    "trigger_id": trigger,
                    "channel_id": channel,
                    "object_id": (record_id - 1) // 2,
                    "origin": origin,
                    "suborigin": sub,
                    "event_time": format_local(when, UTC),
                }
            )
            if len(events) == 10_000:
                yield events
                events = []
        if events:
            yield events

    db = Database(db_url)
    try:
        ingest_locally(db, location_id, batches(), config=CONFIG)
    finally:
        db.dispose()


def latencies(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds, after a short warm-up."""
    for _ in range(5):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=20)
    return statistics.median(samples), cuts[18]


def measure(
    count: int,
    repeat: int,
    *,
    db_url: str | None = None,
    env: dict[str, str] | None = None,
    filler: Filler = fill,
) -> dict[str, tuple[float, float]]:
    """p50/p95 of each request with `count` events stored (by `filler`): in a fresh SQLite
    file, or in a scratch database on the PostgreSQL server of `db_url` (with the
    server's `env`)."""
    with ExitStack() as stack:
        if db_url is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(tmp) / 'queries.db'}"
        else:
            from footfall.benchmarks.postgresql import scratch_database

            url = stack.enter_context(scratch_database(db_url))
        site = new_site(url, secret_key=(env or {}).get("FOOTFALL_SECRET_KEY"))
        filler(site.db_url, site.location_id, count)
        with (
            running_server(site.db_url, {"FOOTFALL_RATE_LIMIT": "0", **(env or {})}) as base,
            Client(base, site.public_key, site.secret) as client,
        ):
            now = datetime.now(UTC)
            # Odd edges, so both partial hours are read from raw events.
            since = (now - timedelta(days=30)).replace(minute=17, second=23, microsecond=456000)
            until = now.replace(minute=42, second=5, microsecond=789000)
            middle = client.events(limit=1, since=now - timedelta(days=15))[0]["id"]
            results = {
                "totals": latencies(
                    lambda: client.totals_by_trigger(
                        location_id=site.location_id, since=since, until=until
                    ),
                    repeat,
                ),
                "page": latencies(
                    lambda: client.events(
                        location_id=site.location_id, after_id=middle, limit=1000
                    ),
                    repeat,
                ),
                "minimal": latencies(client.locations, repeat),
            }
            assert len(client.events(after_id=middle, limit=1000)) == 1000
    return results


def run(quick: bool = False) -> list[Row]:
    repeat = 60 if quick else 200
    small = measure(100_000, repeat)
    large = measure(1_000_000 if not quick else 300_000, repeat)
    size = "1M" if not quick else "300k"
    return [
        Row(
            name="/totals/triggers 30 days, 100k events: p50",
            figure=small["totals"][0],
            unit="ms",
            baseline_name="/locations p50",
            baseline=small["minimal"][0],
            target="< 20 ms",
            ok=small["totals"][0] < 20,
        ),
        Row(
            name=f"/totals/triggers 30 days, {size} events: p50",
            figure=large["totals"][0],
            unit="ms",
            baseline_name="same at 100k",
            baseline=small["totals"][0],
            target="< 20 ms, < 1.5x",
            ok=large["totals"][0] < 20 and large["totals"][0] < 1.5 * small["totals"][0],
        ),
        Row(
            name=f"/totals/triggers 30 days, {size} events: p95",
            figure=large["totals"][1],
            unit="ms",
            baseline_name="same at 100k",
            baseline=small["totals"][1],
            target="(reported)",
            ok=True,
        ),
        Row(
            name=f"/events page of 1,000 ({size} stored): p50",
            figure=large["page"][0],
            unit="ms",
            baseline_name="/locations p50",
            baseline=large["minimal"][0],
            target="< 30 ms",
            ok=large["page"][0] < 30,
        ),
        Row(
            name=f"/events page of 1,000 ({size} stored): p95",
            figure=large["page"][1],
            unit="ms",
            baseline_name="/locations p95",
            baseline=large["minimal"][1],
            target="(reported)",
            ok=True,
        ),
    ]
