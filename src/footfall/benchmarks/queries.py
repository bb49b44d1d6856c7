"""Read-API latency with the throttle off: `/totals/triggers` over a 30-day range at 100k
and at 1M stored events (quick: 300k), and a 1,000-event `/events` page, each as p50/p95
of signed requests over real HTTP against `footfall serve` on SQLite.

Baselines from the same run: totals at 1M are compared with totals at 100k (the cost must
follow the hours in the range, not the events); the page with the plain path for the
same answer (the same 1,000 rows read with plain `sqlite3`, their times formatted and the
list encoded to JSON by msgspec, in one process, no HTTP), and, reported, with the
smallest signed request there is (`/locations`).
Targets: totals p50 < 1.5x at 1M what it is at 100k (and, absolute, < 20 ms on a quiet
machine); the page p50 within `PAGE_TARGET` of its plain path (docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from footfall.benchmarks.harness import Site, new_site, running_server
from footfall.benchmarks.ingest import CONFIG
from footfall.benchmarks.report import Ratio, Row
from footfall.client import Client
from footfall.domain.signing import sign
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

# The cost of totals follows the hours of the range, not the stored events.
TOTALS_TARGET = Ratio(most=1.50)
# A page over HTTP: the signed request's own cost (HMAC, the nonce's compare-and-set, a
# durable commit) beside the plain read and encoding (docs/benchmarks.md argues it).
PAGE_TARGET = Ratio(most=3.0)
_PAGE_COLUMNS = (
    "record_id", "event_type", "snapshot_id", "trigger_id", "origin", "suborigin",
    "age_range", "gender", "id", "channel_id", "object_id", "location_id", "event_time",
)  # fmt: skip


def plain_page(path: str, location_id: int, after_id: int) -> Callable[[], bytes]:
    """The plain path to the answer of a 1,000-event page: plain sqlite3 on the same file,
    the same columns, times formatted as the API does, one msgspec encoding."""
    import sqlite3

    import msgspec

    conn = sqlite3.connect(path, check_same_thread=False)
    sql = (
        f"SELECT {', '.join(_PAGE_COLUMNS)} FROM events WHERE location_id = ? AND id > ? "
        "ORDER BY id LIMIT 1000"
    )

    def page() -> bytes:
        out = []
        for row in conn.execute(sql, (location_id, after_id)):
            item = dict(zip(_PAGE_COLUMNS, row, strict=True))
            item["event_time"] = format_local(row[-1], UTC)
            out.append(item)
        return msgspec.json.encode(out)

    return page


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


def sample(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 in milliseconds of each call, after a short warm-up. The calls take
    turns, one request each, so a burst of the neighbours' work on this shared machine
    falls on every figure alike rather than on whichever was being measured then."""
    for call in calls.values():
        for _ in range(5):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, taken in samples.items():
        out[name] = (statistics.median(taken), statistics.quantiles(taken, n=20)[18])
    return out


@contextmanager
def serving(
    count: int,
    *,
    db_url: str | None = None,
    env: dict[str, str] | None = None,
    filler: Filler = fill,
) -> Iterator[dict[str, Callable[[], object]]]:
    """The requests to time with `count` events stored (by `filler`) behind a running
    server: in a fresh SQLite file (then also the page's plain path), or in a scratch
    database on the PostgreSQL server of `db_url` (with the server's `env`)."""
    with ExitStack() as stack:
        if db_url is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{Path(tmp) / 'queries.db'}"
        else:
            from footfall.benchmarks.postgresql import scratch_database

            url = stack.enter_context(scratch_database(db_url))
        site = new_site(url, secret_key=(env or {}).get("FOOTFALL_SECRET_KEY"))
        filler(site.db_url, site.location_id, count)
        base = stack.enter_context(
            running_server(site.db_url, {"FOOTFALL_RATE_LIMIT": "0", **(env or {})})
        )
        client = stack.enter_context(Client(base, site.public_key, site.secret))
        now = datetime.now(UTC)
        # Odd edges, so both partial hours are read from raw events.
        since = (now - timedelta(days=30)).replace(minute=17, second=23, microsecond=456000)
        until = now.replace(minute=42, second=5, microsecond=789000)
        middle = client.events(limit=1, since=now - timedelta(days=15))[0]["id"]
        assert len(client.events(after_id=middle, limit=1000)) == 1000
        http = stack.enter_context(httpx.Client(base_url=base))
        calls: dict[str, Callable[[], object]] = {
            "totals": lambda: client.totals_by_trigger(
                location_id=site.location_id, since=since, until=until
            ),
            "page": _page_bytes(http, client, site, middle),
            "minimal": client.locations,
        }
        if db_url is None:
            path = site.db_url.removeprefix("sqlite:///")
            calls["plain_page"] = plain_page(path, site.location_id, middle)
        yield calls


def _page_bytes(
    http: httpx.Client, client: Client, site: Site, after_id: int
) -> Callable[[], bytes]:
    """The page over HTTP, signed, ending at the answer's bytes as its plain path does (the
    SDK would also parse the JSON, work on the client's side that the plain path skips)."""
    params = {"location_id": site.location_id, "after_id": after_id, "limit": 1000}

    def page() -> bytes:
        uri = client.signed_uri("/events", params)
        answer = http.get(uri, headers={"X-Key": site.public_key, "X-Sign": sign(site.secret, uri)})
        answer.raise_for_status()
        return answer.content

    return page


def measure_pair(
    small: int, large: int, repeat: int, **serve: Any
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """p50/p95 of each request at `small` and at `large` stored events, two servers up
    at once and their requests taking turns (`sample`)."""
    with serving(small, **serve) as at_small, serving(large, **serve) as at_large:
        both = {f"small {k}": v for k, v in at_small.items()}
        both.update({f"large {k}": v for k, v in at_large.items()})
        got = sample(both, repeat)
    return _side(got, "small "), _side(got, "large ")


def _side(got: dict[str, tuple[float, float]], prefix: str) -> dict[str, tuple[float, float]]:
    return {k.removeprefix(prefix): v for k, v in got.items() if k.startswith(prefix)}


def run(quick: bool = False) -> list[Row]:
    repeat = 60 if quick else 200
    small, large = measure_pair(100_000, 1_000_000 if not quick else 300_000, repeat)
    size = "1M" if not quick else "300k"
    return [*_totals_rows(small, large, size), *_page_rows(large, size)]


Timings = dict[str, tuple[float, float]]


def _totals_rows(small: Timings, large: Timings, size: str) -> list[Row]:
    return [
        Row(
            name="/totals/triggers 30 days, 100k events: p50",
            figure=small["totals"][0],
            unit="ms",
            baseline_name="/locations p50",
            baseline=small["minimal"][0],
            target="< 20 ms (reported)",
            ok=small["totals"][0] < 20,
        ),
        Row(
            name=f"/totals/triggers 30 days, {size} events: p50",
            figure=large["totals"][0],
            unit="ms",
            baseline_name="same at 100k",
            baseline=small["totals"][0],
            target=f"< 20 ms, {TOTALS_TARGET}",
            ok=large["totals"][0] < 20
            and TOTALS_TARGET.met(large["totals"][0] / small["totals"][0]),
            check=TOTALS_TARGET,
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
    ]


def _page_rows(large: Timings, size: str) -> list[Row]:
    return [
        Row(
            name=f"/events page of 1,000 ({size} stored): p50",
            figure=large["page"][0],
            unit="ms",
            baseline_name="plain sqlite3 read + msgspec encode",
            baseline=large["plain_page"][0],
            target=str(PAGE_TARGET),
            ok=PAGE_TARGET.met(large["page"][0] / large["plain_page"][0]),
            check=PAGE_TARGET,
        ),
        Row(
            name=f"/events page of 1,000 ({size} stored): p50 (reported)",
            figure=large["page"][0],
            unit="ms",
            baseline_name="/locations p50",
            baseline=large["minimal"][0],
            target="(reported)",
            ok=True,
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
