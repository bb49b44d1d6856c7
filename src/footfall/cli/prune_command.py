"""`footfall locations prune`: purge a location's undeclared channels and triggers now.

What goes and what stays is the retention job's rule (docs/operations.md, Limits), without
waiting for the retention period: every channel and trigger the location's agent no
longer declares, with the data derived from them, except those an operator's definition
(an occupancy counter, a queue, a feed, a webhook endpoint) still names.
"""

from __future__ import annotations

from typing import Annotated

import typer

from footfall.cli.common import DbOption, JsonOption, open_db
from footfall.cli.output import emit, reporting_errors
from footfall.services.undeclared import prune_location

__all__ = ["locations_prune"]


def locations_prune(
    location: Annotated[int, typer.Option("--location", help="Location id.", min=1)],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Purge the channels and triggers the agent no longer declares, with their data."""
    with reporting_errors(), open_db(db) as database:
        result = prune_location(database, location)
        emit(
            {
                "location_id": result.location_id,
                "channels": result.channels,
                "triggers": result.triggers,
                "derived_rows": result.derived_rows,
                "kept": result.kept,
            },
            as_json=as_json,
            title=(
                f"Purged {len(result.channels)} channel(s) and {len(result.triggers)} "
                f"trigger(s) with {result.derived_rows} row(s) of their data"
            ),
        )
