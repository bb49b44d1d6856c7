"""Webhook delivery, through a real `footfall serve` on SQLite to receivers on
loopback:

- latency from an ingest request to the arrival of its events at the receiver, p50 and
  p99, while ingesting 1,000 events/s (batches of 50 every 50 ms), beside the latency of
  the ingest requests themselves; every event must arrive (no loss);
- deliveries per second across 20 endpoints, beside the rate at which a plain httpx
  client posts the same bodies to the same receiver with the same concurrency.

Targets: nothing lost (every event sent arrives: a ratio of 1, enforced by `footfall
bench --check`), p99 under 1 s (absolute, on a quiet machine), and deliveries at least
`THROUGHPUT_TARGET` of the plain posts' rate (docs/benchmarks.md argues its value).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from footfall.benchmarks.harness import new_site, running_server
from footfall.benchmarks.ingest import CONFIG
from footfall.benchmarks.receiver import Receiver
from footfall.benchmarks.report import Ratio, Row
from footfall.domain.times import format_local
from footfall.services import webhooks
from footfall.store.db import Database

__all__ = ["run"]


def _events(first: int, count: int) -> list[dict[str, object]]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    stamp = format_local(int(now.timestamp() * 1000) - 1000, UTC)
    return [
        {
            "record_id": first + i,
            "event_type": "TripwireCrossed",
            "trigger_id": "t-enter",
            "channel_id": "cam-door",
            "object_id": first + i,
            "event_time": stamp,
        }
        for i in range(count)
    ]


EVERY_EVENT = Ratio(least=1.0)
THROUGHPUT_TARGET = Ratio(least=0.30)

# The benchmark receiver listens on loopback.
LOOPBACK = {"FOOTFALL_WEBHOOK_ALLOW_PRIVATE": "1"}


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def latency(seconds: float) -> tuple[list[float], list[float], int, int]:
    """(delivery latencies s, ingest latencies s, events sent, events received)."""
    receiver = Receiver().start()
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'hooks.db'}")
        db = Database(site.db_url)
        webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        db.dispose()
        sent_at: dict[int, float] = {}
        ingest_latency: list[float] = []
        with (
            running_server(site.db_url, LOOPBACK) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {site.ingest_token}"}
            ) as http,
        ):
            http.put("/ingest/v1/config", json=CONFIG).raise_for_status()
            batches = int(seconds * 20)
            start = time.monotonic()
            for n in range(batches):
                target = start + n * 0.05
                pause = target - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                batch = _events(n * 50, 50)
                began = time.monotonic()
                http.post("/ingest/v1/events", json=batch).raise_for_status()
                ingest_latency.append(time.monotonic() - began)
                for event in batch:
                    sent_at[int(str(event["record_id"]))] = began
            total = len(sent_at)
            with contextlib.suppress(AssertionError):  # a loss is reported, not raised
                receiver.wait_for(lambda got: sum(len(r.json) for r in got) >= total, 30)
    receiver.stop()
    arrived: dict[int, float] = {}
    for r in receiver.received:
        for event in r.json:
            arrived.setdefault(int(event["record_id"]), r.at)
    delays = [arrived[k] - sent_at[k] for k in arrived if k in sent_at]
    return delays, ingest_latency, len(sent_at), len(arrived)


def throughput(endpoints: int, batches: int) -> tuple[float, float]:
    """(deliveries/s through Footfall, plain posts/s to the same receiver)."""
    receiver = Receiver().start()
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'fanout.db'}")
        db = Database(site.db_url)
        for n in range(endpoints):
            webhooks.create_endpoint(
                db, allow_private=True, location_id=site.location_id, url=f"{receiver.url}/{n}"
            )
        db.dispose()
        with (
            running_server(site.db_url, LOOPBACK) as base,
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {site.ingest_token}"}
            ) as http,
        ):
            http.put("/ingest/v1/config", json=CONFIG).raise_for_status()
            bodies = [_events(k * 100, 100) for k in range(batches)]
            started = time.monotonic()
            for body in bodies:
                http.post("/ingest/v1/events", json=body).raise_for_status()
            expected = endpoints * batches
            receiver.wait_for(lambda got: len(got) >= expected, 120)
            through = expected / (max(r.at for r in receiver.received) - started)
    sample = receiver.received[0].body
    receiver.received.clear()

    async def plain() -> float:
        async with httpx.AsyncClient() as client:

            async def one_endpoint(n: int) -> None:
                for _ in range(batches):
                    await client.post(
                        f"{receiver.url}/{n}",
                        content=sample,
                        headers={"content-type": "application/json"},
                    )

            began = time.monotonic()
            await asyncio.gather(*(one_endpoint(n) for n in range(endpoints)))
            return endpoints * batches / (time.monotonic() - began)

    baseline = asyncio.run(plain())
    receiver.stop()
    return through, baseline


def run(quick: bool = False) -> list[Row]:
    delays, ingest_times, sent, received = latency(4 if quick else 10)
    through, baseline = throughput(20, 20 if quick else 50)
    p50, p99 = _percentile(delays, 50), _percentile(delays, 99)
    return [
        Row(
            name=f"webhook latency at 1,000 events/s: p50 ({received}/{sent} arrived)",
            figure=p50 * 1000,
            unit="ms",
            baseline_name="ingest request p50",
            baseline=_percentile(ingest_times, 50) * 1000,
            target="(reported)",
            ok=received == sent,
        ),
        Row(
            name="webhook latency at 1,000 events/s: p99",
            figure=p99 * 1000,
            unit="ms",
            baseline_name="ingest request p99",
            baseline=_percentile(ingest_times, 99) * 1000,
            target="< 1,000 ms, no loss",
            ok=p99 < 1.0 and received == sent,
        ),
        Row(
            name="webhook events arrived at 1,000 events/s (no loss)",
            figure=received,
            unit="events",
            baseline_name="events sent",
            baseline=sent,
            target=str(EVERY_EVENT),
            ok=EVERY_EVENT.met(received / sent),
            check=EVERY_EVENT,
        ),
        Row(
            name="webhook deliveries/s across 20 endpoints",
            figure=through,
            unit="/s",
            baseline_name="plain httpx posts, same receiver and concurrency",
            baseline=baseline,
            target=str(THROUGHPUT_TARGET),
            ok=THROUGHPUT_TARGET.met(through / baseline),
            check=THROUGHPUT_TARGET,
        ),
    ]
