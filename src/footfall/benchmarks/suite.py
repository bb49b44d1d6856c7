"""`footfall bench`: every benchmark of the project, one table."""

from __future__ import annotations

import gc
from collections.abc import Callable

from rich.console import Console

from footfall.benchmarks import analytics, ingest, postgresql, queries, webhooks
from footfall.benchmarks.report import Row, render

__all__ = ["BENCHMARKS", "run_all"]

BENCHMARKS: dict[str, Callable[[bool], list[Row]]] = {
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


def run_all(quick: bool = False, postgresql_url: str | None = None) -> list[Row]:
    """Every benchmark; the PostgreSQL ones on the server of `postgresql_url`, if given."""
    console = Console(stderr=True)
    benchmarks = dict(BENCHMARKS)
    if postgresql_url:
        benchmarks["postgresql"] = lambda q: postgresql.run(postgresql_url, q)
    else:
        console.print(
            "PostgreSQL benchmarks skipped: pass --postgresql postgresql://user@host:port/db "
            f"(or set {postgresql.ENV}) to add them.",
            markup=False,
        )
    rows: list[Row] = []
    for name, benchmark in benchmarks.items():
        gc.collect()  # each benchmark starts without the previous one's garbage
        with console.status(f"running the {name} benchmark..."):
            rows.extend(benchmark(quick))
    print(render(rows))
    return rows
