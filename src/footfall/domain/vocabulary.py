"""The event vocabulary of SPEC §2: which event types each trigger type fires, and the
allowed values of origin, suborigin and gender.

Everything that accepts an event checks it against these tables, so a value outside the
vocabulary never reaches the database.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AGE_RANGE_MAX_LEN",
    "EVENT_TYPES",
    "EVENT_TYPES_BY_TRIGGER_TYPE",
    "GENDERS",
    "ID_MAX_LEN",
    "ORIGINS",
    "TRIGGER_TYPES",
    "allowed_suborigins",
    "id_problem",
]

TRIGGER_TYPES: Final = ("Line", "Zone", "Scene")

EVENT_TYPES_BY_TRIGGER_TYPE: Final[dict[str, frozenset[str]]] = {
    "Line": frozenset({"TripwireCrossed", "Tailgating"}),
    "Zone": frozenset(
        {
            "RegionJoin",
            "RegionLeave",
            "Loitering",
            "MotionInRegionOn",
            "MotionInRegionOff",
            "CrowdOn",
            "CrowdOff",
        }
    ),
    "Scene": frozenset({"ObjectAppear", "ObjectDisappear", "Sabotage"}),
}

EVENT_TYPES: Final = frozenset().union(*EVENT_TYPES_BY_TRIGGER_TYPE.values())

ORIGINS: Final = ("Pedestrian", "Vehicle", "Face", "Unknown")
VEHICLE_SUBORIGINS: Final = ("Car", "Truck", "Bus", "Motorcycle", "Bicycle", "Unknown")
GENDERS: Final = ("", "Male", "Female")
AGE_RANGE_MAX_LEN: Final = 16
ID_MAX_LEN: Final = 64

_SUBORIGINS: Final[dict[str, tuple[str, ...]]] = {
    "Vehicle": VEHICLE_SUBORIGINS,
    "Pedestrian": ("Unknown", ""),
}


def allowed_suborigins(origin: str) -> tuple[str, ...]:
    """The suborigins an event of this origin may carry."""
    return _SUBORIGINS.get(origin, ("",))


def id_problem(value: object) -> str | None:
    """Why a channel or trigger id is unusable, or None when it is fine.

    Ids appear in comma-separated query parameters, so a comma would make them
    unaddressable.
    """
    if not isinstance(value, str):
        return "expected a string"
    if not 1 <= len(value) <= ID_MAX_LEN:
        return f"expected 1 to {ID_MAX_LEN} characters, got {len(value)}"
    if "," in value:
        return "must not contain ','"
    return None
