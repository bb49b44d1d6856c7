"""`footfall bench`: every benchmark, each figure beside its baseline measured in the same
run (docs/benchmarks.md); `--check` fails when a ratio target is missed."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["bench"]


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller data, fewer repeats.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Quick scale; exit 1 if a ratio target is missed twice (docs/benchmarks.md).",
        ),
    ] = False,
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
    from footfall.benchmarks.suite import check_all, run_all

    if check:
        if check_all(postgresql_url=postgresql):
            raise typer.Exit(1)
        return
    run_all(quick=quick, postgresql_url=postgresql)
