"""`footfall webhooks ...`: endpoints, their deliveries, replays."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from footfall.cli.common import DbOption, JsonOption, open_db, settings_for
from footfall.cli.output import emit, emit_table, reporting_errors
from footfall.domain.webhooks import format_utc
from footfall.services import webhooks

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    help="Webhooks: events, occupancy and queue changes pushed to your URL, signed.",
    no_args_is_help=True,
)


def _endpoint(e: webhooks.Endpoint, *, secret: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": e.id,
        "location_id": e.location_id,
        "channel_id": e.channel_id,
        "kind": e.kind,
        "url": e.url,
        "enabled": e.enabled,
        "created_at": format_utc(e.created_at),
    }
    if secret:
        shown["secret"] = e.secret
    return shown


@webhooks_app.command("create")
def create(
    location: Annotated[int, typer.Option("--location", help="Location id.", min=1)],
    url: Annotated[str, typer.Option(help="Where to POST (http:// or https://).")],
    kind: Annotated[str, typer.Option(help="events, occupancy, queue or revisions.")] = "events",
    channel: Annotated[
        str | None,
        typer.Option(help="Only this channel's events or revisions (kinds events, revisions)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint; its signing secret is shown once."""
    with reporting_errors(), open_db(db) as database:
        endpoint = webhooks.create_endpoint(
            database,
            location_id=location,
            url=url,
            kind=kind,
            channel_id=channel,
            allow_private=settings_for(db).webhook_allow_private,
        )
        emit(
            _endpoint(endpoint, secret=True),
            as_json=as_json,
            title="Webhook endpoint created (verify signatures with the secret)",
        )


@webhooks_app.command("list")
def list_(
    location: Annotated[int | None, typer.Option("--location", help="Only this location.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List endpoints (never their secrets)."""
    with reporting_errors(), open_db(db) as database:
        rows = [_endpoint(e) for e in webhooks.list_endpoints(database, location)]
        emit_table(
            "endpoints",
            rows,
            as_json=as_json,
            empty="No webhook endpoints yet: `footfall webhooks create --help`.",
        )


@webhooks_app.command("delete")
def delete(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an endpoint and drop its pending deliveries."""
    with reporting_errors(), open_db(db) as database:
        webhooks.delete_endpoint(database, endpoint_id)
        emit({"id": endpoint_id, "deleted": True}, as_json=as_json, title="Endpoint deleted")


@webhooks_app.command("enable")
def enable(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enable an endpoint again (after a 410 Gone disabled it)."""
    with reporting_errors(), open_db(db) as database:
        webhooks.enable_endpoint(database, endpoint_id)
        emit({"id": endpoint_id, "enabled": True}, as_json=as_json, title="Endpoint enabled")


@webhooks_app.command("deliveries")
def deliveries(
    endpoint: Annotated[int | None, typer.Option("--endpoint", help="Only this endpoint.")] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only those whose retries are exhausted or met 410.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The delivery log: status, attempts, last answer, next attempt."""
    with reporting_errors(), open_db(db) as database:
        rows = [
            d.as_json()
            for d in webhooks.list_deliveries(
                database, endpoint_id=endpoint, failed_only=failed, limit=limit
            )
        ]
        emit_table("deliveries", rows, as_json=as_json, empty="No deliveries.")


@webhooks_app.command("replay")
def replay(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attempt a delivery again now (same body and webhook-id), restarting its schedule."""
    with reporting_errors(), open_db(db) as database:
        webhooks.replay(database, delivery_id)
        emit({"id": delivery_id, "status": "pending"}, as_json=as_json, title="Replay queued")
