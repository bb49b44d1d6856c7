"""The simulated store: its cameras (channels) and their triggers, as an agent declares them."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["CHANNEL_OF", "STORE_CONFIG", "TRIGGER_NAMES", "T"]


class T:
    """Trigger ids of the simulated store."""

    ENTER = "t-enter"
    EXIT = "t-exit"
    ENTRANCE = "t-entrance-scene"
    SHELF_A = "t-shelf-fresh"
    SHELF_B = "t-shelf-drinks"
    FLOOR = "t-floor-scene"
    QUEUE = "t-queue"
    SERVED = "t-served"
    CAR_IN = "t-car-in"
    CAR_OUT = "t-car-out"
    PARKING = "t-parking"
    CAR_PARK = "t-carpark-scene"


_CHANNELS: Final = [
    (
        "cam-entrance",
        "Entrance",
        [
            (T.ENTER, "Enter", "Line"),
            (T.EXIT, "Exit", "Line"),
            (T.ENTRANCE, "Entrance scene", "Scene"),
        ],
    ),
    (
        "cam-floor",
        "Sales floor",
        [
            (T.SHELF_A, "Fresh produce", "Zone"),
            (T.SHELF_B, "Drinks", "Zone"),
            (T.FLOOR, "Floor scene", "Scene"),
        ],
    ),
    (
        "cam-checkout",
        "Checkout",
        [
            (T.QUEUE, "Checkout queue", "Zone"),
            (T.SERVED, "Served", "Line"),
        ],
    ),
    (
        "cam-carpark",
        "Car park",
        [
            (T.CAR_IN, "Car park in", "Line"),
            (T.CAR_OUT, "Car park out", "Line"),
            (T.PARKING, "Parking", "Zone"),
            (T.CAR_PARK, "Car park scene", "Scene"),
        ],
    ),
]

STORE_CONFIG: Final[dict[str, Any]] = {
    "version": "footfall-sim 1",
    "channels": [
        {
            "id": channel,
            "name": name,
            "paid": 1,
            "triggers": [{"id": t, "name": n, "type": kind} for t, n, kind in triggers],
        }
        for channel, name, triggers in _CHANNELS
    ],
}

CHANNEL_OF: Final[dict[str, str]] = {
    t: channel for channel, _, triggers in _CHANNELS for t, _, _ in triggers
}
TRIGGER_NAMES: Final[dict[str, str]] = {
    t: name for _, _, triggers in _CHANNELS for t, name, _ in triggers
}
