"""`footfall occupancy ...` and `footfall queues ...`: live metrics of a location."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from footfall.cli.common import DbOption, JsonOption, open_db
from footfall.cli.output import emit, emit_table, reporting_errors
from footfall.domain.occupancy import format_duration
from footfall.domain.times import format_utc
from footfall.services import drift, occupancy

__all__ = ["occupancy_app", "queues_app"]

occupancy_app = typer.Typer(
    help="Occupancy counters: people inside, from enter/exit lines or a zone.",
    no_args_is_help=True,
)
queues_app = typer.Typer(help="Queues: length and wait time of a zone.", no_args_is_help=True)

LocationOption = Annotated[int, typer.Option("--location", help="Location id.", min=1)]
NameOption = Annotated[str, typer.Option("--name", help="A name people will recognise.")]


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unknown uid)
        return "unknown"


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who did it, for the audit trail (default: your login name)."),
]
MaxIdleOption = Annotated[
    str | None,
    typer.Option(
        "--max-idle",
        help="Line counters: back to 0 after this long with no crossing (90m, 2h; 1m-24h).",
    ),
]


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip()) if text else ()


def _counter(c: occupancy.Counter) -> dict[str, Any]:
    return {
        "id": c.id,
        "location_id": c.location_id,
        "name": c.name,
        "enter": list(c.enter_triggers),
        "exit": list(c.exit_triggers),
        "zone": c.zone_trigger,
        "capacity": c.capacity,
        "reset": f"{c.reset_minute // 60:02d}:{c.reset_minute % 60:02d}",
        "max_idle": None if c.max_idle_ms is None else format_duration(c.max_idle_ms),
    }


def _audit(a: drift.AuditEntry) -> dict[str, Any]:
    return {
        "counter_id": a.counter_id,
        "location_id": a.location_id,
        "at": format_utc(a.at),
        "kind": a.kind,
        "by": a.actor,
        "before": a.value_before,
        "after": a.value_after,
        "note": a.note,
        "withdrawn_at": None if a.withdrawn_at is None else format_utc(a.withdrawn_at),
    }


def _queue(q: occupancy.Queue) -> dict[str, Any]:
    return {"id": q.id, "location_id": q.location_id, "name": q.name, "zone": q.zone_trigger}


@occupancy_app.command("create")
def occupancy_create(
    location: LocationOption,
    name: NameOption,
    enter: Annotated[
        str | None, typer.Option(help="Enter line trigger ids, comma-separated.")
    ] = None,
    exit_: Annotated[
        str | None, typer.Option("--exit", help="Exit line trigger ids, comma-separated.")
    ] = None,
    zone: Annotated[str | None, typer.Option(help="One zone trigger id.")] = None,
    capacity: Annotated[int | None, typer.Option(help="Maximum occupancy, shown with it.")] = None,
    reset: Annotated[str, typer.Option(help="Daily local reset time HH:MM.")] = "00:00",
    max_idle: MaxIdleOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an occupancy counter (enter/exit lines, or one zone)."""
    with reporting_errors(), open_db(db) as database:
        counter = occupancy.create_counter(
            database,
            location_id=location,
            name=name,
            enter=_ids(enter),
            exit_=_ids(exit_),
            zone=zone,
            capacity=capacity,
            reset=reset,
            max_idle=max_idle,
        )
        emit(_counter(counter), as_json=as_json, title="Occupancy counter created")


@occupancy_app.command("calibrate")
def occupancy_calibrate(
    counter_id: Annotated[int, typer.Argument(help="The counter's id.")],
    value: Annotated[int, typer.Option("--value", help="The head count: people inside now.")],
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a line counter to a head count, effective at once (logged with who and when)."""
    with reporting_errors(), open_db(db) as database:
        done = drift.calibrate(database, counter_id, value, by=by or _whoami())
        assert done.calibrated_at is not None
        emit(
            {
                "id": counter_id,
                "occupancy": done.occupancy,
                "calibrated_at": format_utc(done.calibrated_at),
                "by": by or _whoami(),
            },
            as_json=as_json,
            title="Counter calibrated",
        )


@occupancy_app.command("update")
def occupancy_update(
    counter_id: Annotated[int, typer.Argument(help="The counter's id.")],
    max_idle: Annotated[
        str,
        typer.Option(
            "--max-idle",
            help="Back to 0 after this long with no crossing (90m, 2h; 1m-24h), or off.",
        ),
    ],
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a line counter's max idle (logged in its audit trail)."""
    with reporting_errors(), open_db(db) as database:
        counter = drift.set_max_idle(database, counter_id, max_idle, by=by or _whoami())
        emit(_counter(counter), as_json=as_json, title="Counter updated")


@occupancy_app.command("audit")
def occupancy_audit(
    counter: Annotated[int | None, typer.Option("--counter", help="Only this counter.")] = None,
    location: Annotated[int | None, typer.Option("--location", help="Only this location.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.", min=1)] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Calibrations, max-idle changes and idle resets, newest first."""
    with reporting_errors(), open_db(db) as database:
        rows = drift.audit_trail(database, location_id=location, counter_id=counter, limit=limit)
        emit_table(
            "audit",
            [_audit(a) for a in rows],
            as_json=as_json,
            empty="Nothing yet: `footfall occupancy calibrate --help`.",
        )


@occupancy_app.command("list")
def occupancy_list(
    location: Annotated[int | None, typer.Option("--location", help="Only this location.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List occupancy counters."""
    with reporting_errors(), open_db(db) as database:
        rows = [_counter(c) for c in occupancy.list_counters(database, location)]
        emit_table(
            "counters",
            rows,
            as_json=as_json,
            empty="No occupancy counters yet: `footfall occupancy create --help`.",
        )


@occupancy_app.command("delete")
def occupancy_delete(
    counter_id: Annotated[int, typer.Argument(help="The counter's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete an occupancy counter."""
    with reporting_errors(), open_db(db) as database:
        occupancy.delete_counter(database, counter_id)
        emit({"id": counter_id, "deleted": True}, as_json=as_json, title="Counter deleted")


@queues_app.command("create")
def queues_create(
    location: LocationOption,
    name: NameOption,
    zone: Annotated[str, typer.Option(help="The zone trigger people queue in.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a queue on a zone trigger."""
    with reporting_errors(), open_db(db) as database:
        queue = occupancy.create_queue(database, location_id=location, name=name, zone=zone)
        emit(_queue(queue), as_json=as_json, title="Queue created")


@queues_app.command("list")
def queues_list(
    location: Annotated[int | None, typer.Option("--location", help="Only this location.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List queues."""
    with reporting_errors(), open_db(db) as database:
        rows = [_queue(q) for q in occupancy.list_queues(database, location)]
        emit_table(
            "queues", rows, as_json=as_json, empty="No queues yet: `footfall queues create --help`."
        )


@queues_app.command("delete")
def queues_delete(
    queue_id: Annotated[int, typer.Argument(help="The queue's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a queue."""
    with reporting_errors(), open_db(db) as database:
        occupancy.delete_queue(database, queue_id)
        emit({"id": queue_id, "deleted": True}, as_json=as_json, title="Queue deleted")
