"""Ground truth of what the simulator sent: per trigger and local hour, the line crossings
(TripwireCrossed), zone joins (RegionJoin) and leaves (RegionLeave)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from footfall.domain.times import format_local_seconds, from_ms, to_ms
from footfall.sim.traffic import SimEvent

__all__ = ["GroundTruth"]

_KINDS = {"TripwireCrossed": "crossings", "RegionJoin": "joins", "RegionLeave": "leaves"}


def local_hour_start(ms: int, zone: tzinfo) -> int:
    """The instant where the local hour containing `ms` began."""
    local = from_ms(ms, zone)
    # replace() keeps `fold`, so the repeated wall hour of a DST fall-back day is never
    # confused with the one before it.
    return to_ms(local.replace(minute=0, second=0, microsecond=0))


class GroundTruth:
    def __init__(self, zone: tzinfo, zone_name: str) -> None:
        self.zone = zone
        self.zone_name = zone_name
        self.counts: dict[str, dict[int, dict[str, int]]] = defaultdict(dict)

    def add(self, events: Iterable[SimEvent]) -> None:
        for event in events:
            kind = _KINDS.get(event.event_type)
            if kind is None:
                continue
            hour = local_hour_start(event.time_ms, self.zone)
            cell = self.counts[event.trigger_id].setdefault(
                hour, {"crossings": 0, "joins": 0, "leaves": 0}
            )
            cell[kind] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "timezone": self.zone_name,
            "triggers": {
                trigger: {
                    format_local_seconds(hour, self.zone): cell
                    for hour, cell in sorted(hours.items())
                }
                for trigger, hours in sorted(self.counts.items())
            },
        }
