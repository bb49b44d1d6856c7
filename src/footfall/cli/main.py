"""`footfall`: the command line, composing every entry point. Each group of commands
lives in a module named for its job (tenant_commands, database_commands, server_command,
sim_commands, bench_command, ...); this module puts them together in the order `--help`
lists them.

Every management command takes `--db URL` (default: FOOTFALL_DATABASE_URL, else
sqlite:///footfall.db) and `--json`.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from footfall.cli import api_command
from footfall.cli.bench_command import bench
from footfall.cli.bridge_commands import bridge_app
from footfall.cli.common import JsonOption
from footfall.cli.copy_command import copy_database_command
from footfall.cli.database_commands import init, secrets_app
from footfall.cli.feeds_commands import feeds_app
from footfall.cli.help_text import as_prose
from footfall.cli.keys_nonce_command import reset_nonce_command
from footfall.cli.output import emit_table, fail, reporting_errors
from footfall.cli.prune_command import locations_prune
from footfall.cli.server_command import serve
from footfall.cli.sim_commands import demo, simulate
from footfall.cli.tenant_commands import accounts_app, keys_app, locations_app
from footfall.cli.webhooks_commands import webhooks_app
from footfall.cli.zones_commands import occupancy_app, queues_app
from footfall.config import read_secret_files
from footfall.domain.times import format_local

__all__ = ["app", "run"]

app = typer.Typer(
    name="footfall",
    help="Footfall: a self-hosted video-analytics events service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
keys_app.command("reset-nonce")(reset_nonce_command)
app.add_typer(locations_app, name="locations")
locations_app.command("prune")(locations_prune)
app.add_typer(occupancy_app, name="occupancy")
app.add_typer(queues_app, name="queues")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(feeds_app, name="feeds")
app.add_typer(secrets_app, name="secrets")
app.add_typer(bridge_app, name="bridge")
app.command("copy-database")(copy_database_command)
app.command("init")(init)
app.command("serve")(serve)
app.command("simulate")(simulate)


@app.command()
def agent(
    config: Annotated[Path, typer.Option("--config", help="The agent's YAML configuration.")],
    preview: Annotated[
        Path | None,
        typer.Option(
            help="Draw the lines and zones on a frame of each source into this PNG, then exit."
        ),
    ] = None,
    dead_letters: Annotated[
        bool,
        typer.Option(
            "--dead-letters",
            help="List the events the server refused (kept in the spool), then exit.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The edge agent: video files, RTSP streams or cameras in, Footfall events out.

    Events the server refuses (422: e.g. a camera clock that reset to 1970) are moved to
    the spool's dead letters and the rest keep flowing; `--dead-letters` lists them."""
    try:
        from footfall.agent.config import ConfigError, load_config
        from footfall.agent.preview import write_preview
        from footfall.agent.run import run_agent
        from footfall.agent.source import SourceError
    except ImportError as exc:
        fail(
            f"the agent needs its extra: pip install ./shims/opencv-python "
            f"'footfall[agent]' ({exc.name} is missing)"
        )
    try:
        loaded = load_config(config)
        if dead_letters:
            _print_dead_letters(loaded.spool, as_json=as_json)
            return
        if preview is not None:
            write_preview(loaded, preview)
            print(f"wrote {preview}")
            return
        sent = run_agent(loaded)
    except (ConfigError, SourceError, OSError) as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(str(exc))
    print(f"done: {sent} events acknowledged by {loaded.server}")


def _print_dead_letters(spool_path: Path, *, as_json: bool) -> None:
    from footfall.uplink.spool import Spool

    if not spool_path.exists():
        fail(f"no spool at {spool_path}: the agent has not run with this configuration yet")
    spool = Spool(spool_path)
    try:
        letters = spool.dead_letters()
    finally:
        spool.close()
    rows = [
        {
            "record_id": letter.record_id,
            "refused_at": format_local(letter.refused_at, UTC),
            "event_time": str(letter.event.get("event_time", "")),
            "trigger_id": str(letter.event.get("trigger_id", "")),
            "reason": letter.reason,
        }
        for letter in letters
    ]
    emit_table("dead_letters", rows, as_json=as_json, empty="no dead letters: every event sent")


@app.command("agent-eval")
def agent_eval(
    sequence: Annotated[
        list[str] | None,
        typer.Option("--sequence", "-s", help="PETS09-S2L1, TUD-Stadtmitte or TUD-Campus."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="The real footage (default: $FOOTFALL_REAL_DATA; see docs/agent.md)."),
    ] = None,
    frames: Annotated[int | None, typer.Option(help="Only the first N frames.", min=1)] = None,
    line: Annotated[
        list[str] | None, typer.Option(help="NAME=ax,ay,bx,by instead of the documented lines.")
    ] = None,
    zone: Annotated[
        list[str] | None, typer.Option(help="NAME=x1,y1,x2,y2,x3,y3,... instead of the zones.")
    ] = None,
    detector: Annotated[
        str, typer.Option(help="people (the agent's default) or motion (blobs only).")
    ] = "people",
    as_json: JsonOption = False,
) -> None:
    """The agent on real footage: each line direction and zone beside the ground truth."""
    try:
        from footfall.agent import evaluate as ev
        from footfall.agent.config import DetectorConfig
    except ImportError as exc:
        fail(f"the agent needs its extra: pip install 'footfall[agent]' ({exc.name} is missing)")
    where = ev.data_dir(data)
    if where is None:
        fail(
            f"no real footage at {data or '$' + ev.ENV}: point --data or ${ev.ENV} at the "
            "evaluation sequences and their truth.py (see docs/agent.md)"
        )
    names = sequence or list(ev.SEQUENCES)
    unknown = [n for n in names if n not in ev.SEQUENCES]
    if unknown:
        fail(f"--sequence: {unknown[0]!r} is not one of {', '.join(ev.SEQUENCES)}")
    if detector not in ("people", "motion"):
        fail(f"--detector: expected people or motion, got {detector!r}")
    chosen = [ev.SEQUENCES[n] for n in names]
    if line or zone:
        if len(chosen) != 1:
            fail("--line and --zone need exactly one --sequence")
        try:
            chosen = [ev.with_geometry(chosen[0], line or [], zone or [])]
        except ValueError as exc:
            fail(str(exc))
    results = [
        ev.evaluate(s, where, frames=frames, detector=DetectorConfig(kind=detector)) for s in chosen
    ]
    if as_json:
        print(json.dumps({"results": [r.as_json() for r in results]}))
    else:
        print(ev.render(results))


app.command("demo")(demo)
app.command("bench")(bench)
app.command(
    "api",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(api_command.api)


# Last, once every command is registered: help that reads as prose at any width.
as_prose(app)


def run() -> None:
    try:
        with reporting_errors():  # before any command: every one reads the secrets
            read_secret_files(os.environ)
    except typer.Exit as stop:  # outside a command, typer would not turn it into an exit
        sys.exit(stop.exit_code)
    app()
