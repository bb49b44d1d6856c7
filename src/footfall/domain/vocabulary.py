"""The event vocabulary of docs/api.md's Vocabulary: which event types each trigger type fires, and
the
allowed values of origin, suborigin and gender.

Everything that accepts an event checks it against these tables, so a value outside the
vocabulary never reaches the database.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "AGE_RANGE_MAX_LEN",
    "EVENT_TYPES",
    "EVENT_TYPES_BY_TRIGGER_TYPE",
    "GENDERS",
    "ID_MAX_LEN",
    "ID_PATTERN",
    "ORIGINS",
    "TEXT_PATTERN",
    "TRIGGER_TYPES",
    "allowed_suborigins",
    "has_control",
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


# Text an agent sends (version, ids, age ranges) holds no control character: C0, DEL, C1.
# Stated as a pattern in the dialect Python and ECMA-262 share, so the OpenAPI document
# publishes the very rule the checks apply.
TEXT_PATTERN: Final = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
# An id as a declaration takes it (and as a query names it): 1 to 64 such characters
# without ',' (ids appear in comma-separated query parameters).
ID_PATTERN: Final = "^[^,\\x00-\\x1f\\x7f-\\x9f]+$"
_CONTROL: Final = re.compile("[\\x00-\\x1f\\x7f-\\x9f]")


def has_control(text: str) -> bool:
    """Whether `text` holds a control character (refused in an agent's text)."""
    return _CONTROL.search(text) is not None


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
