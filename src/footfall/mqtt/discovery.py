"""Topic names and payloads (pure): the values, the availability topic, and the Home
Assistant MQTT discovery configs that make every counter and queue appear in Home
Assistant by itself.

    {prefix}/{location_id}/occupancy/{id}   the webhook body of that counter (retained)
    {prefix}/{location_id}/queue/{id}       the webhook body of that queue (retained)
    {prefix}/status                         "online" / "offline" (the session's last will)
    {discovery}/sensor/{object_id}/config   Home Assistant discovery (retained)

`object_id` is `{prefix}_{location_id}_{kind}_{id}` with the prefix's characters outside
`[A-Za-z0-9_-]` replaced by `_`: `footfall_12_occupancy_3` with the default prefix, and
distinct for several installs sharing a broker under different prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from footfall import __version__

__all__ = ["OFFLINE", "ONLINE", "Topics", "sensor_config"]

ONLINE = b"online"
OFFLINE = b"offline"
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]")

# kind -> (field of the webhook body that is the sensor's state, icon)
_SENSORS = {"occupancy": ("occupancy", "mdi:account-group"), "queue": ("length", "mdi:human-queue")}


@dataclass(frozen=True)
class Topics:
    prefix: str = "footfall"
    discovery_prefix: str = "homeassistant"  # "" turns discovery off

    @property
    def availability(self) -> str:
        return f"{self.prefix}/status"

    def state(self, location_id: int, kind: str, metric_id: int) -> str:
        return f"{self.prefix}/{location_id}/{kind}/{metric_id}"

    def object_id(self, location_id: int, kind: str, metric_id: int) -> str:
        return f"{_NOT_ID.sub('_', self.prefix)}_{location_id}_{kind}_{metric_id}"

    def discovery(self, location_id: int, kind: str, metric_id: int) -> str | None:
        if not self.discovery_prefix:
            return None
        return (
            f"{self.discovery_prefix}/sensor/{self.object_id(location_id, kind, metric_id)}/config"
        )


def sensor_config(
    topics: Topics,
    *,
    location_id: int,
    location_name: str,
    kind: str,
    metric_id: int,
    name: str,
) -> dict[str, Any]:
    """The discovery config of one counter or queue: a sensor of its location's device,
    whose state is the count and whose attributes are the whole webhook body."""
    field, icon = _SENSORS[kind]
    state_topic = topics.state(location_id, kind, metric_id)
    device_id = f"{_NOT_ID.sub('_', topics.prefix)}_location_{location_id}"
    return {
        "name": name,
        "unique_id": topics.object_id(location_id, kind, metric_id),
        "state_topic": state_topic,
        "value_template": f"{{{{ value_json.{field} }}}}",
        "json_attributes_topic": state_topic,
        "unit_of_measurement": "objects",
        "state_class": "measurement",
        "icon": icon,
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
