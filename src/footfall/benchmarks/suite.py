"""`footfall bench`: every benchmark of the project, one table.

`footfall bench --check` runs them at the quick scale and fails when a row's ratio
target (`Row.check`) is missed. Only ratios are enforced: figure and baseline come from
the same run, so a machine busy with other work slows both; an absolute time would fail
for the neighbours' sake. The one kind of ratio without a same-run baseline is a CPU-time
figure against the pace it must keep (`Row.pace`: the agent's frames per CPU second
against the video's frames per second), which other work on the machine slows little.
A benchmark with a missed row is run once more before it counts, since a burst of the
neighbours' work can still land on one side of a ratio.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from rich.console import Console

from footfall.benchmarks import analytics, ingest, postgresql, queries, webhooks
from footfall.benchmarks.report import Row, render

__all__ = ["BENCHMARKS", "check_all", "run_all"]

Benchmark = Callable[[bool], list[Row]]

BENCHMARKS: dict[str, Benchmark] = {
    "ingest": ingest.run,
    "queries": queries.run,
    "analytics": analytics.run,
    "webhooks": webhooks.run,
}


def _agent(quick: bool) -> list[Row]:
    try:
        from footfall.benchmarks import agent
    except ImportError:  # the agent's extra is not installed: nothing to measure
        return []
    return agent.run(quick)


def _agent_accuracy(quick: bool) -> list[Row]:
    try:
        from footfall.benchmarks import agent_accuracy
    except ImportError:  # the agent's extra is not installed: nothing to measure
        return []
    return agent_accuracy.run(quick)  # nothing when the real footage is absent


BENCHMARKS["agent"] = _agent
BENCHMARKS["agent-accuracy"] = _agent_accuracy


def _benchmarks(postgresql_url: str | None, console: Console) -> dict[str, Benchmark]:
    benchmarks = dict(BENCHMARKS)
    if postgresql_url:
        benchmarks["postgresql"] = lambda q: postgresql.run(postgresql_url, q)
    else:
        console.print(
            "PostgreSQL benchmarks skipped: pass --postgresql postgresql://user@host:port/db "
            f"(or set {postgresql.ENV}) to add them.",
            markup=False,
        )
    return benchmarks


def _run(name: str, benchmark: Benchmark, quick: bool, console: Console) -> list[Row]:
    gc.collect()  # each benchmark starts without the previous one's garbage
    with console.status(f"running the {name} benchmark..."):
        return benchmark(quick)


def run_all(quick: bool = False, postgresql_url: str | None = None) -> list[Row]:
    """Every benchmark; the PostgreSQL ones on the server of `postgresql_url`, if given."""
    console = Console(stderr=True)
    rows: list[Row] = []
    for name, benchmark in _benchmarks(postgresql_url, console).items():
        rows.extend(_run(name, benchmark, quick, console))
    print(render(rows))
    return rows


def check_all(postgresql_url: str | None = None) -> list[Row]:
    """Every benchmark at the quick scale; a benchmark with a missed ratio target runs once
    more and its second run counts. Prints the table and, last, each row still missed;
    returns those rows (none: every enforced target met)."""
    console = Console(stderr=True)
    rows: list[Row] = []
    for name, benchmark in _benchmarks(postgresql_url, console).items():
        got = _run(name, benchmark, True, console)
        if any(row.missed for row in got):
            first = "; ".join(f"{r.name} {r.checked_ratio:.2f}" for r in got if r.missed)
            print(f"bench --check: {name} missed ({first}); running it once more", flush=True)
            got = _run(name, benchmark, True, console)
        rows.extend(got)
    print(render(rows))
    missed = [row for row in rows if row.missed]
    enforced = sum(row.check is not None for row in rows)
    for row in missed:
        print(
            f"MISSED: {row.name}: {row.checked_ratio:.2f}x {row.checked_against}, "
            f"target {row.check} (figure {row.figure:,.1f} {row.unit})"
        )
    print(f"bench --check: {enforced - len(missed)} of {enforced} ratio targets met")
    return missed
