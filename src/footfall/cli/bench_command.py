"""`footfall bench`: every benchmark, each figure beside its baseline measured in the same
run (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["bench"]


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller data, fewer repeats.")] = False,
    postgresql: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL server to add its benchmarks on (each makes and drops its own "
            "database there), e.g. postgresql://postgres@127.0.0.1:5432/postgres.",
            envvar="FOOTFALL_BENCH_POSTGRESQL_URL",
        ),
    ] = None,
) -> None:
    """Run every benchmark and print one table, each figure beside its same-run baseline."""
    from footfall.benchmarks.suite import run_all

    run_all(quick=quick, postgresql_url=postgresql)
