"""Ingest throughput: HTTP batches of 1,000 events from 2 concurrent clients into a real
`footfall serve` on SQLite, beside the fastest plain path we know for storing the same rows
(docs/benchmarks.md): plain `sqlite3`, one multi-row `INSERT ... VALUES` statement per
1,000-row transaction (measured 1.3-1.6x faster than `executemany`), into a fresh
database with the same DDL (every index), WAL and `synchronous=FULL`, measured in the same
run.

The server does more than the baseline for each batch (decoding, checking, duplicates,
rollups, coverage and revision marks, the webhook outbox), so the target is a ratio that
says how much of the plain path's rate survives that work (docs/benchmarks.md argues its
value). A second row shows the same ingest with `synchronous=NORMAL` (how it ran before
commits were made fully durable) beside it: what FULL costs, measured in the same run.

Quick runs alternating the code before and after ingest's Python per batch was cut
(docs/benchmarks.md, Targets argued), events/s beside the plain INSERT's rows/s of the
same run: 47,922/206,734 (0.23), 52,740/214,411 (0.25), 67,801/251,369 (0.27) before;
57,850/263,733 (0.22), 55,433/192,351 (0.29), 66,719/263,665 (0.25), 71,445/260,066
(0.27) after, on a machine other suites loaded, then 51,504/205,757 (0.25) in
`bench/ingest.py --quick`. The server's CPU per batch fell from
13.2-13.7 ms to 9.7-10.5 ms; the plain path's own rate moved by 30 % between runs.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from itertools import chain
from pathlib import Path

import httpx
import msgspec

from footfall.benchmarks.harness import new_site, running_server
from footfall.benchmarks.report import Ratio, Row
from footfall.domain.times import format_local, now_ms
from footfall.services.ingest import ingest_locally
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


def plain_insert_rate(rows: list[tuple[object, ...]], batch: int) -> float:
    """Rows/s of plain sqlite3 into a fresh events table (same DDL, WAL, synchronous=FULL):
    one multi-row `INSERT ... VALUES` of `batch` rows per transaction (13 parameters a row:
    13,000 for 1,000 rows, under SQLite's 32,766)."""
    columns = (
        "id, location_id, record_id, event_type, trigger_id, channel_id, object_id, "
        "origin, suborigin, age_range, gender, snapshot_id, event_time"
    )
    group = "(" + ", ".join("?" * 13) + ")"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'plain.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        conn = sqlite3.connect(str(Path(tmp) / "plain.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        started = time.perf_counter()
        for k in range(0, len(rows), batch):
            chunk = rows[k : k + batch]
            sql = f"INSERT INTO events ({columns}) VALUES {', '.join([group] * len(chunk))}"
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, tuple(chain.from_iterable(chunk)))
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


# The target: HTTP ingest keeps at least this share of the plain path's rate. Argued from
# the measured spread of the same code (0.22-0.29x, mean 0.26x) and where the rest goes
# (docs/benchmarks.md, Targets argued); `--check` enforces it.
TARGET = Ratio(least=0.20)


def stored_rows(bodies: list[bytes], location_id: int) -> list[tuple[object, ...]]:
    """The rows the server stores for `bodies` (decoded and checked as it does), with ids."""
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
    return rows


def run(quick: bool = False) -> list[Row]:
    """Runs alternate, plain, HTTP, plain, HTTP, plain, each figure the mean of its runs, so
    that a neighbour's burst on this shared machine falls on both alike."""
    count = 100_000 if quick else 400_000
    batch = 1000
    batches = make_batches(count, batch, now_ms())
    bodies = [msgspec.json.encode(b) for b in batches]
    started = time.perf_counter()
    rows = stored_rows(bodies, location_id=1)  # new_site's first location
    check_rate = count / (time.perf_counter() - started)
    plains = [plain_insert_rate(rows, batch)]
    rates = []
    for _ in range(2):
        rates.append(_served_rate(bodies, count, module=None))
        plains.append(plain_insert_rate(rows, batch))
    rate, baseline = sum(rates) / len(rates), sum(plains) / len(plains)
    normal_rate = _served_rate(bodies, count, module=NORMAL_SERVER)
    service_rate = _service_rate(batches, count)
    return [
        Row(
            name="ingest over HTTP (SQLite, 2 clients, 1,000/batch)",
            figure=rate,
            unit="events/s",
            baseline_name="plain multi-row INSERT, 1,000 rows/transaction, synchronous=FULL",
            baseline=baseline,
            target=f">= 50,000/s and {TARGET}",
            ok=rate >= 50_000 and TARGET.met(rate / baseline),
            check=TARGET,
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
        # Where the rest goes (docs/benchmarks.md): the same service without HTTP, one
        # batch at a time, and the decoding and checking alone.
        Row(
            name="ingest service in process, no HTTP, 1 batch at a time",
            figure=service_rate,
            unit="events/s",
            baseline_name="plain multi-row INSERT",
            baseline=baseline,
            target="reported",
            ok=True,
        ),
        Row(
            name="decoding and checking alone, in process",
            figure=check_rate,
            unit="events/s",
            baseline_name="plain multi-row INSERT",
            baseline=baseline,
            target="reported",
            ok=True,
        ),
    ]


def _service_rate(batches: list[list[dict[str, object]]], count: int) -> float:
    """Events/s of the ingest service called in process (every rule and write of the ingest
    API, no HTTP), one batch after another, into a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'service.db'}")
        db = Database(site.db_url)
        try:
            started = time.perf_counter()
            ingest_locally(db, site.location_id, batches, config=CONFIG)
            return count / (time.perf_counter() - started)
        finally:
            db.dispose()


def _served_rate(bodies: list[bytes], count: int, *, module: str | None) -> float:
    """Events/s into a fresh database behind a real server."""
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
            return http_rate(requests, count, base, clients=2)
