"""Run the simulated store against a server: backfill whole local days, then (optionally)
go live, sending each event when its time comes.

Backfill sends the N whole local days before today as fast as ingest allows. Live mode
sends today's events as their time comes; with `speed` it replays today from local
midnight that many times faster than real time until it catches up with the clock. No
event is ever sent before its time.

Like an agent, it sends a heartbeat for every channel every 30 s of simulated time
(`HEARTBEAT_MS`): for each backfilled day, and in live mode as the simulated clock moves
(never ahead of it), so coverage is complete wherever the shop was simulated.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from footfall.domain.times import from_ms, now_ms, parse_zone, to_ms
from footfall.sim.agent import IngestAgent
from footfall.sim.layout import STORE_CONFIG
from footfall.sim.traffic import SimEvent, day_events
from footfall.sim.truth import GroundTruth

__all__ = ["SimulationOptions", "run_simulation"]

_BATCH = 1000
HEARTBEAT_MS = 30_000
_CHANNELS = [str(c["id"]) for c in STORE_CONFIG["channels"]]


def _beats(start: int, end: int) -> list[int]:
    """The heartbeat instants in [start, end): every HEARTBEAT_MS on the epoch's grid."""
    first = -(-start // HEARTBEAT_MS) * HEARTBEAT_MS
    return list(range(first, end, HEARTBEAT_MS))


@dataclass(frozen=True)
class SimulationOptions:
    url: str
    token: str
    location_id: int | None = None
    days: int = 0
    live: bool = False
    seed: int = 0
    speed: float | None = None
    truth_path: Path | None = None
    show_progress: bool = True


class SimulationError(Exception):
    pass


def _batches(events: Sequence[SimEvent]) -> list[Sequence[SimEvent]]:
    return [events[k : k + _BATCH] for k in range(0, len(events), _BATCH)]


def run_simulation(
    options: SimulationOptions,
    *,
    stop: threading.Event | None = None,
    on_backfilled: Callable[[], None] | None = None,
    console: Console | None = None,
) -> GroundTruth:
    console = console or Console(stderr=True)
    stop = stop or threading.Event()
    agent = IngestAgent(options.url, options.token)
    try:
        declared = agent.declare(STORE_CONFIG)
        if options.location_id is not None and declared["location_id"] != options.location_id:
            raise SimulationError(
                f"this ingest token belongs to location {declared['location_id']}, "
                f"not {options.location_id}"
            )
        zone_name = str(declared["timezone"])
        zone = parse_zone(zone_name)
        truth = GroundTruth(zone, zone_name)
        today = datetime.now(zone).date()
        held = _backfill(agent, options, truth, today, console)
        if on_backfilled is not None:
            on_backfilled()
        if options.live:
            _live(agent, options, truth, today, stop, console, held)
    finally:
        agent.close()
    if options.truth_path is not None:
        options.truth_path.write_text(json.dumps(truth.as_json(), indent=1))
    return truth


def _backfill(
    agent: IngestAgent,
    options: SimulationOptions,
    truth: GroundTruth,
    today: date,
    console: Console,
) -> list[SimEvent]:
    """Send the whole days before today; returns their events still ahead of the clock
    (a stay begun before midnight may end after it, and just after midnight that is in
    the future: the server would refuse it), for the live part to send when due."""
    days = [today - timedelta(days=k) for k in range(options.days, 0, -1)]
    held: list[SimEvent] = []
    if not days:
        return held
    zone = truth.zone
    with Progress(
        TextColumn("[bold]backfill[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not options.show_progress,
    ) as progress:
        task = progress.add_task("", total=len(days))
        sent = 0
        for day in days:
            progress.update(task, description=f"{day.isoformat()} ({sent:,} events sent)")
            events = day_events(day, zone, options.seed)
            cutoff = now_ms()
            held += [e for e in events if e.time_ms > cutoff]
            for batch in _batches([e for e in events if e.time_ms <= cutoff]):
                agent.send(list(batch))
                truth.add(batch)
                sent += len(batch)
            start = to_ms(datetime.combine(day, datetime.min.time(), tzinfo=zone))
            end = to_ms(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone))
            agent.heartbeat(_CHANNELS, _beats(start, end))
            progress.advance(task)
        progress.update(task, description=f"done ({sent:,} events sent)")
    return held


def _live(
    agent: IngestAgent,
    options: SimulationOptions,
    truth: GroundTruth,
    today: date,
    stop: threading.Event,
    console: Console,
    held: Sequence[SimEvent] = (),
) -> None:
    zone = truth.zone
    started = now_ms()
    midnight = to_ms(datetime.combine(today, datetime.min.time(), tzinfo=zone))
    events = sorted([*held, *day_events(today, zone, options.seed)], key=lambda e: e.time_ms)
    day, sent = today, 0
    announced = time.monotonic()
    count = 0
    beaten = midnight  # heartbeats sent up to here: today is simulated from midnight
    while not stop.is_set():
        real_now = now_ms()
        if options.speed:
            clock = min(real_now, midnight + int((real_now - started) * options.speed))
        else:
            clock = real_now
        due = [e for e in events[sent:] if e.time_ms <= clock]
        for batch in _batches(due):
            agent.send(list(batch))
            truth.add(batch)
        sent += len(due)
        count += len(due)
        if clock >= beaten:
            agent.heartbeat(_CHANNELS, _beats(beaten, clock + 1))
            beaten = clock + 1
        if sent == len(events) and from_ms(clock, zone).date() > day:
            day += timedelta(days=1)
            events, sent = day_events(day, zone, options.seed), 0
            continue
        if time.monotonic() - announced > 60 and options.show_progress:
            console.log(f"live: {count:,} events sent, simulated time {from_ms(clock, zone):%H:%M}")
            announced = time.monotonic()
        stop.wait(0.2 if options.speed else 1.0)
