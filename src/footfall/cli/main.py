"""`footfall`: management commands, the server, and (later) simulator, demo and benchmarks.

Every management command takes `--db URL` (default: FOOTFALL_DATABASE_URL, else
sqlite:///footfall.db) and `--json`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from footfall.cli import api_command
from footfall.cli.agent_commands import add_agent_commands
from footfall.cli.bridge_commands import bridge_app
from footfall.cli.common import AccountOption, DbOption, JsonOption, open_db, settings_for
from footfall.cli.copy_command import copy_database_command
from footfall.cli.feeds_commands import feeds_app
from footfall.cli.output import emit, emit_table, fail, reporting_errors
from footfall.cli.webhooks_commands import webhooks_app
from footfall.cli.zones_commands import occupancy_app, queues_app
from footfall.domain.times import format_local
from footfall.services import management
from footfall.store.migrate import upgrade

__all__ = ["app", "run"]

app = typer.Typer(
    name="footfall",
    help="Footfall: a self-hosted video-analytics events service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
add_agent_commands(app)
accounts_app = typer.Typer(
    help="Tenants: each owns locations, API keys, webhooks and feeds.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys for the signed read API.", no_args_is_help=True)
locations_app = typer.Typer(
    help="Sites, each with an edge agent and an ingest token.", no_args_is_help=True
)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(locations_app, name="locations")
app.add_typer(occupancy_app, name="occupancy")
app.add_typer(queues_app, name="queues")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(feeds_app, name="feeds")
secrets_app = typer.Typer(
    help="The server key that seals API and webhook secrets at rest.", no_args_is_help=True
)
app.add_typer(secrets_app, name="secrets")
app.add_typer(bridge_app, name="bridge")
app.command("copy-database")(copy_database_command)


@app.command()
def init(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create or upgrade the database schema (safe to run again); on SQLite without
    FOOTFALL_SECRET_KEY, also the key file that seals secrets (beside the database)."""
    with reporting_errors(), open_db(db, migrated=False) as database:
        if not database.is_sqlite:
            database.require_key()  # PostgreSQL: FOOTFALL_SECRET_KEY must be set (clear error)
        revision = upgrade(database)
        database.require_key()  # SQLite: the key file (just made) or the variable, well-formed
        emit(
            {"database": database.url, "schema_version": revision},
            as_json=as_json,
            title="Database ready",
        )


@secrets_app.command("rotate")
def secrets_rotate(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Re-seal every API and webhook secret under a new key.

    Key file (SQLite): a new key is made and replaces the file. FOOTFALL_SECRET_KEY: put
    the new key first and keep the old after a comma (NEW,OLD) on every server, run this,
    then drop OLD.
    """
    from footfall.services.key_rotation import rotate_secrets

    with reporting_errors(), open_db(db) as database:
        done = rotate_secrets(database)
        emit(
            {
                "key_id": done.key_id,
                "api_keys": done.api_keys,
                "webhook_secrets": done.webhook_secrets,
                "key_source": done.key_source,
            },
            as_json=as_json,
            title="Secrets re-sealed",
        )


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="A name for the tenant.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account."""
    with reporting_errors(), open_db(db) as database:
        account = management.create_account(database, name)
        emit({"id": account.id, "name": account.name}, as_json=as_json, title="Account created")


@accounts_app.command("list")
def accounts_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List accounts."""
    with reporting_errors(), open_db(db) as database:
        rows = [{"id": a.id, "name": a.name} for a in management.list_accounts(database)]
        emit_table(
            "accounts",
            rows,
            as_json=as_json,
            empty="No accounts yet: `footfall accounts create NAME`.",
        )


@keys_app.command("create")
def keys_create(account: AccountOption, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Issue an API key; its secret is shown once."""
    with reporting_errors(), open_db(db) as database:
        key = management.create_key(database, account)
        emit(
            {"public_key": key.public_key, "secret": key.secret, "account_id": key.account_id},
            as_json=as_json,
            title="API key created (the secret is shown only now)",
        )


@keys_app.command("revoke")
def keys_revoke(
    public_key: Annotated[str, typer.Argument(help="The public key to revoke.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key: its requests are refused from now on."""
    with reporting_errors(), open_db(db) as database:
        management.revoke_key(database, public_key)
        emit({"public_key": public_key, "revoked": True}, as_json=as_json, title="Key revoked")


@keys_app.command("list")
def keys_list(
    account: Annotated[int | None, typer.Option("--account", help="Only this account.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List API keys (never their secrets)."""
    with reporting_errors(), open_db(db) as database:
        rows = [
            {
                "public_key": k.public_key,
                "account_id": k.account_id,
                "created_at": k.created_at,
                "revoked": k.revoked_at is not None,
            }
            for k in management.list_keys(database, account)
        ]
        emit_table(
            "keys",
            rows,
            as_json=as_json,
            empty="No API keys yet: `footfall keys create --account ID`.",
        )


@locations_app.command("create")
def locations_create(
    account: AccountOption,
    name: Annotated[str, typer.Option("--name", help="The site's name.")],
    timezone: Annotated[
        str, typer.Option("--timezone", help="IANA zone (Europe/Paris) or fixed offset (+05:30).")
    ] = "UTC",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a location; its ingest token is shown once."""
    with reporting_errors(), open_db(db) as database:
        issued = management.create_location(
            database, account_id=account, name=name, timezone=timezone
        )
        emit(
            {
                "id": issued.location.id,
                "name": issued.location.name,
                "hash": issued.location.hash,
                "ingest_token": issued.ingest_token,
            },
            as_json=as_json,
            title="Location created (the ingest token is shown only now)",
        )


@locations_app.command("list")
def locations_list(
    account: Annotated[int | None, typer.Option("--account", help="Only this account.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List locations with their agent version and when they were last seen."""
    with reporting_errors(), open_db(db) as database:
        rows = [
            {
                "id": loc.id,
                "account_id": loc.account_id,
                "name": loc.name,
                "timezone": loc.timezone,
                "version": loc.version,
                "last_seen_at": None
                if loc.last_seen_at is None
                else format_local(loc.last_seen_at, UTC),
            }
            for loc in management.list_locations(database, account)
        ]
        emit_table(
            "locations",
            rows,
            as_json=as_json,
            empty="No locations yet: `footfall locations create --account ID --name N`.",
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (more than 1 makes sense on PostgreSQL).", min=1)
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    db: DbOption = None,
) -> None:
    """Run the HTTP server with its background jobs (Ctrl-C or SIGTERM stops it cleanly)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from footfall import logs

    # Refuse to start on a missing or outdated schema, or without the secrets' key.
    with reporting_errors(), open_db(db) as database:
        database.require_key()
        settings = settings_for(db)
        os.environ["FOOTFALL_DATABASE_URL"] = settings.database_url
    json_logs = settings.log_format == "json"
    with _metrics_directory(workers):
        uvicorn.run(
            "footfall.api.asgi:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=30,
            log_level="info",
            # In JSON, Footfall's own access log (with request ids) replaces uvicorn's.
            access_log=access_log and not json_logs,
            log_config=logs.dict_config(access_log=access_log) if json_logs else LOGGING_CONFIG,
        )


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """Several workers: prometheus_client's multiprocess mode, in a directory made fresh
    for this run (stale files of an earlier run would add up), removed afterwards.

    Set before the workers start, so they read it when they import prometheus_client.
    PROMETHEUS_MULTIPROC_DIR set by the operator is used as it is (and kept).
    """
    if workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="footfall-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


@app.command()
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


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port to serve on.", min=1, max=65535)] = 8000,
    days: Annotated[int, typer.Option(help="Days of history to simulate first.", min=0)] = 14,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """One command, zero set-up: a simulated shop with history, served live."""
    from footfall.sim.demo import run_demo

    run_demo(port=port, days=days, host=host)


@app.command()
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


app.command(
    "api",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(api_command.api)


def run() -> None:
    app()
