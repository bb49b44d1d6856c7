"""`footfall simulate` and `footfall demo`: a simulated shop sending events to a server's
ingest API, and the whole product on simulated data with zero set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from footfall.cli.output import fail

__all__ = ["demo", "simulate"]


def simulate(
    url: Annotated[str, typer.Option(help="The Footfall server, e.g. http://127.0.0.1:8000.")],
    token: Annotated[str, typer.Option(help="The location's ingest token.")],
    location: Annotated[
        int | None, typer.Option(help="The location id (checked against the token).")
    ] = None,
    days: Annotated[
        int, typer.Option(help="Backfill the N whole local days before today.", min=0)
    ] = 0,
    live: Annotated[
        bool, typer.Option(help="Then keep sending events as their time comes.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Same seed, same days: the same events.")] = 0,
    speed: Annotated[
        float | None,
        typer.Option(
            help="Live: replay today from midnight this many times faster than real "
            "time until it catches up (default: catch up at once).",
            min=0.001,
        ),
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Write the ground truth (per trigger and local hour).")
    ] = None,
) -> None:
    """Run a simulated shop (an edge agent) against a server's ingest API."""
    from footfall.sim.agent import AgentError
    from footfall.sim.simulate import SimulationError, SimulationOptions, run_simulation

    if days == 0 and not live:
        fail("nothing to do: give --days N to backfill, --live to run live, or both")
    options = SimulationOptions(
        url=url,
        token=token,
        location_id=location,
        days=days,
        live=live,
        seed=seed,
        speed=speed,
        truth_path=truth,
    )
    try:
        run_simulation(options)
    except (AgentError, SimulationError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def demo(
    port: Annotated[int, typer.Option(help="TCP port to serve on.", min=1, max=65535)] = 8000,
    days: Annotated[int, typer.Option(help="Days of history to simulate first.", min=0)] = 14,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """One command, zero set-up: a simulated shop with history, served live."""
    from footfall.sim.demo import run_demo

    run_demo(port=port, days=days, host=host)
