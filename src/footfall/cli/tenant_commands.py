"""`footfall accounts`, `keys` and `locations`: tenants, their read-API keys and their
sites. Secrets (an API key's secret, an ingest token) are shown once, when issued."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import typer

from footfall.cli.common import AccountOption, DbOption, JsonOption, open_db
from footfall.cli.output import emit, emit_table, reporting_errors
from footfall.domain.times import format_local
from footfall.services import management

__all__ = ["accounts_app", "keys_app", "locations_app"]

accounts_app = typer.Typer(
    help="Tenants: each owns locations, API keys, webhooks and feeds.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys for the signed read API.", no_args_is_help=True)
locations_app = typer.Typer(
    help="Sites, each with an edge agent and an ingest token.", no_args_is_help=True
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
