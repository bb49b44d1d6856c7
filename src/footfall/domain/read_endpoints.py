"""The read API's endpoints, one row each: path, answer item, parameters, summary.

Invariant: this table is the only list of read endpoints. The server registers its routes
from it, the OpenAPI document is generated from it (with `read_items` and
`read_params.PARAMETERS`), `footfall api` offers exactly its endpoints, and a test checks
docs/api.md's tables against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec

from footfall.domain import read_items as items

__all__ = ["ENDPOINTS", "Endpoint"]

_RANGE = ("since", "until")


@dataclass(frozen=True)
class Endpoint:
    path: str  # under /service/api/v1
    item: type[msgspec.Struct]
    params: tuple[str, ...]
    summary: str
    extension: bool = False

    @property
    def name(self) -> str:
        """The name `footfall api` takes: the path without its leading slash."""
        return self.path.lstrip("/")

    @property
    def pages(self) -> bool:
        """Paged with `after_id` (ascending ids)."""
        return "after_id" in self.params


ENDPOINTS: Final = (
    Endpoint("/locations", items.Location, (), "The locations of this key's account"),
    Endpoint("/channels", items.Channel, ("location_id",), "Channels (cameras)"),
    Endpoint(
        "/triggers",
        items.Trigger,
        ("location_id", "channel_id"),
        "Line, zone and scene triggers",
    ),
    Endpoint(
        "/events",
        items.Event,
        (
            "location_id",
            "channel_id",
            "trigger_id",
            "event_type",
            "origin",
            *_RANGE,
            "after_id",
            "limit",
        ),
        "Events in ascending id order (page with after_id)",
    ),
    Endpoint(
        "/totals/triggers",
        items.EventTotalByTrigger,
        (
            "location_id",
            "channel_id",
            "trigger_id",
            "event_type",
            "origin",
            *_RANGE,
            "updated_since",
        ),
        "Event counts per trigger",
    ),
    Endpoint(
        "/totals/types",
        items.EventTotalByType,
        ("location_id", "channel_id", "origin", *_RANGE, "updated_since"),
        "Event counts per channel and type",
    ),
    Endpoint(
        "/histograms",
        items.Histogram,
        (
            "location_id",
            "channel_id",
            "trigger_id",
            *_RANGE,
            "after_id",
            "limit",
            "updated_since",
        ),
        "Hourly occupancy and dwell of zone triggers (page with after_id)",
    ),
    Endpoint(
        "/occupancy",
        items.Occupancy,
        ("location_id",),
        "Live occupancy counters (Footfall extension)",
        extension=True,
    ),
    Endpoint(
        "/queues",
        items.Queue,
        ("location_id",),
        "Live queue length and wait time (Footfall extension)",
        extension=True,
    ),
    Endpoint(
        "/coverage",
        items.Coverage,
        ("location_id", "channel_id", *_RANGE),
        "Covered seconds per channel and hour, from heartbeats (Footfall extension)",
        extension=True,
    ),
)
