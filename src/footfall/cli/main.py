"""`footfall`: the command line, composing every entry point. Each group of commands
lives in a module named for its job (tenant_commands, database_commands, server_command,
sim_commands, bench_command, ...); this module puts them together in the order `--help`
lists them.

Every management command takes `--db URL` (default: FOOTFALL_DATABASE_URL, else
sqlite:///footfall.db) and `--json`.
"""

from __future__ import annotations

import os
import sys

import typer

from footfall.cli import api_command
from footfall.cli.agent_commands import add_agent_commands
from footfall.cli.bench_command import bench
from footfall.cli.bridge_commands import bridge_app
from footfall.cli.copy_command import copy_database_command
from footfall.cli.database_commands import init, secrets_app
from footfall.cli.feeds_commands import feeds_app
from footfall.cli.help_text import as_prose
from footfall.cli.keys_nonce_command import reset_nonce_command
from footfall.cli.output import reporting_errors
from footfall.cli.prune_command import locations_prune
from footfall.cli.server_command import serve
from footfall.cli.sim_commands import demo, simulate
from footfall.cli.tenant_commands import accounts_app, keys_app, locations_app
from footfall.cli.webhooks_commands import webhooks_app
from footfall.cli.zones_commands import occupancy_app, queues_app
from footfall.config import read_secret_files

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
add_agent_commands(app)
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
