"""`footfall feeds ...`: saved reports behind a token URL (JSON and CSV)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from footfall.cli.common import DbOption, JsonOption, open_db, settings_for
from footfall.cli.output import emit, emit_table, fail, reporting_errors
from footfall.services import feeds

__all__ = ["feeds_app"]

feeds_app = typer.Typer(
    help="Report feeds: a report behind a URL, for spreadsheets and BI tools.",
    no_args_is_help=True,
)


def _list(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip()) if text else ()


def _ints(option: str, text: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in _list(text))
    except ValueError:
        fail(f"{option} {text!r}: expected ids, comma-separated")


def _shown(feed: feeds.Feed) -> dict[str, Any]:
    """A feed as listed: its token's first characters only (the token is not stored)."""
    return {
        "id": feed.id,
        "token_prefix": feed.token_prefix,
        "location_id": feed.location_id,
        "name": feed.name,
        "metric": feed.metric,
        "granularity": feed.granularity,
        "period": feed.period,
        "revoked": feed.revoked_at is not None,
        "coverage": feed.coverage,
    }


@feeds_app.command("create")
def create(
    location: Annotated[int, typer.Option("--location", help="Location id.", min=1)],
    name: Annotated[str, typer.Option(help="The report's name (the CSV file's too).")],
    metric: Annotated[str, typer.Option(help="count, occupancy, queue, dwell or counter.")],
    triggers: Annotated[
        str | None, typer.Option(help="Trigger ids, comma-separated (default: all).")
    ] = None,
    occupancy: Annotated[
        str | None, typer.Option("--occupancy", help="Counter ids (metric occupancy).")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", help="Queue ids (metric queue).")] = None,
    event_type: Annotated[
        str | None, typer.Option("--event-type", help="Only these event types.")
    ] = None,
    origin: Annotated[str | None, typer.Option(help="Only these origins.")] = None,
    period: Annotated[
        str | None,
        typer.Option(help="today, yesterday, last_7_days, last_30_days, this_week, this_month."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Fixed start, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Fixed end, ISO 8601 with offset.")] = None,
    granularity: Annotated[str, typer.Option(help="15min, hour or day.")] = "hour",
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage",
            help="Add a coverage column (0-1) per series; buckets nothing covered are empty.",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a feed; prints its JSON and CSV URLs (from FOOTFALL_PUBLIC_URL)."""
    with reporting_errors(), open_db(db) as database:
        issued = feeds.create_feed(
            database,
            location_id=location,
            name=name,
            metric=metric,
            triggers=_list(triggers),
            occupancy_ids=_ints("--occupancy", occupancy),
            queue_ids=_ints("--queue", queue),
            event_types=_list(event_type),
            origins=_list(origin),
            period=period,
            since=since,
            until=until,
            granularity=granularity,
            coverage=coverage,
        )
        base = f"{settings_for(db).public_url}/feed/report/{issued.token}"
        shown = {"token": issued.token, "json_url": base, "csv_url": f"{base}/csv"}
        emit(
            {**shown, **_shown(issued.feed)},
            as_json=as_json,
            title="Feed created (its URLs are shown only now: the token is stored as a hash)",
        )


@feeds_app.command("list")
def list_(
    location: Annotated[int | None, typer.Option("--location", help="Only this location.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List feeds (their tokens' first characters: the URLs are shown once, at creation)."""
    with reporting_errors(), open_db(db) as database:
        rows = [_shown(f) for f in feeds.list_feeds(database, location)]
        emit_table(
            "feeds", rows, as_json=as_json, empty="No feeds yet: `footfall feeds create --help`."
        )


@feeds_app.command("revoke")
def revoke(
    token: Annotated[str, typer.Argument(help="The feed's token.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a feed: its URLs answer 404 from now on."""
    with reporting_errors(), open_db(db) as database:
        feeds.revoke_feed(database, token)
        emit({"token": token, "revoked": True}, as_json=as_json, title="Feed revoked")
