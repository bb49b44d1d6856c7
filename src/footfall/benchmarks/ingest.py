"""Ingest throughput: HTTP batches of 1,000 events from 2 concurrent clients into a real
`footfall serve` on SQLite, beside the raw `executemany` rate of the same rows into a fresh
SQLite table with the same indexes and the same durability (the best any ingest path could
do on this machine).

Targets (issue 2): at least 50,000 events/s, and at least 0.4 of the raw rate. Since
issue 12 commits are fully durable (`synchronous=FULL`); a second row shows the same
ingest with `synchronous=NORMAL` (how it ran before) beside it, so what FULL costs is
measured in the same run.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec

from footfall.benchmarks.harness import new_site, running_server
from footfall.benchmarks.report import Row
from footfall.domain.times import format_local, now_ms
from footfall.store.db import Database
from footfall.store.migrate import upgrade

__all__ = ["run"]

NORMAL_SERVER = "footfall.benchmarks.normal_sync_server"

CONFIG = {
    "version": "bench",
    "channels": [
        {
            "id": "cam-door",
            "name": "Entrance",
            "paid": 1,
            "triggers": [
                {"id": "t-enter", "name": "Enter", "type": "Line"},
                {"id": "t-exit", "name": "Exit", "type": "Line"},
            ],
        },
        {
            "id": "cam-floor",
            "name": "Floor",
            "paid": 1,
            "triggers": [{"id": "t-shelf", "name": "Shelf", "type": "Zone"}],
        },
    ],
}
_KINDS = (
    ("t-enter", "cam-door", "TripwireCrossed"),
    ("t-exit", "cam-door", "TripwireCrossed"),
    ("t-shelf", "cam-floor", "RegionJoin"),
    ("t-shelf", "cam-floor", "RegionLeave"),
)


def make_batches(
    count: int, batch: int, start_ms: int, spacing_ms: int = 50
) -> list[list[dict[str, object]]]:
    """`count` events, `spacing_ms` apart, up to `start_ms`, in batches."""
    from datetime import UTC

    events = []
    for i in range(count):
        trigger, channel, kind = _KINDS[i % len(_KINDS)]
        events.append(
            {
                "record_id": i + 1,
                "event_type": kind,
                "trigger_id": trigger,
                "channel_id": channel,
                "object_id": i // 4,
                "origin": "Pedestrian",
                "suborigin": "Unknown",
                "event_time": format_local(start_ms - (count - i) * spacing_ms, UTC),
            }
        )
    return [events[k : k + batch] for k in range(0, count, batch)]


def raw_rate(rows: list[tuple[object, ...]], batch: int, synchronous: str = "FULL") -> float:
    """Rows/s of plain sqlite3 executemany into a fresh events table (same DDL, pragmas)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'raw.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        conn = sqlite3.connect(str(Path(tmp) / "raw.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        sql = (
            "INSERT INTO events (id, location_id, record_id, event_type, trigger_id, "
            "channel_id, object_id, origin, suborigin, age_range, gender, snapshot_id, "
            "event_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        started = time.perf_counter()
        for k in range(0, len(rows), batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[k : k + batch])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
    return len(rows) / elapsed


def http_rate(requests: list[tuple[str, bytes]], events: int, base: str, clients: int) -> float:
    """Events/s of POSTing every (ingest token, body) from `clients` concurrent clients."""
    lock = threading.Lock()
    queue = list(reversed(requests))
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    token, body = queue.pop()
                answer = http.post(
                    "/ingest/v1/events",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                if answer.status_code != 200:
                    failures.append(answer.text[:200])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed, e.g. {failures[0]}")
    return events / elapsed


def run(quick: bool = False) -> list[Row]:
    count = 100_000 if quick else 400_000
    batch = 1000
    batches = make_batches(count, batch, now_ms())
    bodies = [msgspec.json.encode(b) for b in batches]
    rate, location_id = _served_rate(bodies, count, module=None)
    normal_rate, _ = _served_rate(bodies, count, module=NORMAL_SERVER)
    from footfall.domain.ingest import check_events, decode_events
    from footfall.store.locations import TriggerRow

    triggers = {
        "t-enter": TriggerRow("t-enter", "cam-door", "Enter", "Line", 1),
        "t-exit": TriggerRow("t-exit", "cam-door", "Exit", "Line", 1),
        "t-shelf": TriggerRow("t-shelf", "cam-floor", "Shelf", "Zone", 1),
    }
    rows: list[tuple[object, ...]] = []
    for body in bodies:
        decoded, _ = decode_events(body)
        checked, problems = check_events(location_id, decoded, triggers, now_ms())
        assert not problems
        offset = len(rows)
        rows.extend((offset + i + 1, *row) for i, row in enumerate(checked))
    baseline = raw_rate(rows, batch)
    return [
        Row(
            name="ingest over HTTP (SQLite, 2 clients, 1,000/batch)",
            figure=rate,
            unit="events/s",
            baseline_name="raw executemany, synchronous=FULL",
            baseline=baseline,
            target=">= 50,000/s and >= 0.40x",
            ok=rate >= 50_000 and rate >= 0.4 * baseline,
        ),
        Row(
            name="ingest over HTTP, synchronous=FULL (durable)",
            figure=rate,
            unit="events/s",
            baseline_name="the same with synchronous=NORMAL",
            baseline=normal_rate,
            target="reported (the cost of durability)",
            ok=True,
        ),
    ]


def _served_rate(bodies: list[bytes], count: int, *, module: str | None) -> tuple[float, int]:
    """Events/s into a fresh database behind a real server; and the bench location's id."""
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with running_server(site.db_url, module=module) as base:
            put = httpx.put(
                f"{base}/ingest/v1/config",
                headers={"Authorization": f"Bearer {site.ingest_token}"},
                json=CONFIG,
            )
            put.raise_for_status()
            requests = [(site.ingest_token, body) for body in bodies]
            return http_rate(requests, count, base, clients=2), site.location_id
