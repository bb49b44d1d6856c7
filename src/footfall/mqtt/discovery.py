"""Topic names and payloads (pure): the values, the availability topic, and the Home
Assistant MQTT discovery configs that make every counter and queue appear in Home
Assistant by itself.

    {prefix}/{location_id}/occupancy/{id}   the webhook body of that counter (retained)
    {prefix}/{location_id}/queue/{id}       the webhook body of that queue (retained)
    {prefix}/status                         "online" / "offline" (the session's last will)
    {discovery}/sensor/{object_id}/config   Home Assistant discovery (retained)

Each value field Home Assistant should chart is a sensor of its own, reading its field of
the one state topic: a counter's `occupancy`; a queue's `length` and its `wait_time`
(seconds, device class `duration`), so HA records and graphs both.

`object_id` is `{prefix}_{location_id}_{kind}_{id}` (a queue's wait time: with
`_wait_time` appended) with the prefix's characters outside `[A-Za-z0-9_-]` replaced by
`_`: `footfall_12_occupancy_3` with the default prefix, and distinct for several installs
sharing a broker under different prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from footfall import __version__

__all__ = ["OFFLINE", "ONLINE", "SENSORS", "Sensor", "Topics", "sensor_config"]

ONLINE = b"online"
OFFLINE = b"offline"
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Sensor:
    """One Home Assistant sensor of a counter or queue: a field of its webhook body."""

    key: str  # "" for the metric's main sensor, else appended to its object id
    field: str
    icon: str
    unit: str
    device_class: str | None = None
    name_suffix: str = ""


# kind -> its sensors, the main one first (its object id is the metric's own, as before
# the wait time had a sensor, so existing Home Assistant entities keep their ids).
SENSORS: dict[str, tuple[Sensor, ...]] = {
    "occupancy": (Sensor("", "occupancy", "mdi:account-group", "objects"),),
    "queue": (
        Sensor("", "length", "mdi:human-queue", "objects"),
        Sensor("wait_time", "wait_time", "mdi:timer-sand", "s", "duration", " wait time"),
    ),
}


@dataclass(frozen=True)
class Topics:
    prefix: str = "footfall"
    discovery_prefix: str = "homeassistant"  # "" turns discovery off

    @property
    def availability(self) -> str:
        return f"{self.prefix}/status"

    def state(self, location_id: int, kind: str, metric_id: int) -> str:
        return f"{self.prefix}/{location_id}/{kind}/{metric_id}"

    def object_id(self, location_id: int, kind: str, metric_id: int, sensor: str = "") -> str:
        base = f"{_NOT_ID.sub('_', self.prefix)}_{location_id}_{kind}_{metric_id}"
        return f"{base}_{sensor}" if sensor else base

    def discovery(
        self, location_id: int, kind: str, metric_id: int, sensor: str = ""
    ) -> str | None:
        if not self.discovery_prefix:
            return None
        object_id = self.object_id(location_id, kind, metric_id, sensor)
        return f"{self.discovery_prefix}/sensor/{object_id}/config"


def sensor_config(
    topics: Topics,
    *,
    location_id: int,
    location_name: str,
    kind: str,
    metric_id: int,
    name: str,
    sensor: str = "",
) -> dict[str, Any]:
    """The discovery config of one sensor (`Sensor.key`) of a counter or queue: a sensor
    of its location's device, whose state is one field of the webhook body and whose
    attributes are the whole body."""
    chosen = next(s for s in SENSORS[kind] if s.key == sensor)
    state_topic = topics.state(location_id, kind, metric_id)
    device_id = f"{_NOT_ID.sub('_', topics.prefix)}_location_{location_id}"
    config: dict[str, Any] = {
        "name": name + chosen.name_suffix,
        "unique_id": topics.object_id(location_id, kind, metric_id, sensor),
        "state_topic": state_topic,
        "value_template": f"{{{{ value_json.{chosen.field} }}}}",
        "json_attributes_topic": state_topic,
        "unit_of_measurement": chosen.unit,
        "state_class": "measurement",
        "icon": chosen.icon,
        "availability_topic": topics.availability,
        "payload_available": ONLINE.decode(),
        "payload_not_available": OFFLINE.decode(),
        "device": {
            "identifiers": [device_id],
            "name": location_name,
            "manufacturer": "Footfall",
            "model": "Location",
            "sw_version": __version__,
        },
        "origin": {"name": "Footfall", "sw_version": __version__},
    }
    if chosen.device_class is not None:
        config["device_class"] = chosen.device_class
        config["suggested_display_precision"] = 1
    return config
