"""Frigate's tracked-object messages (`frigate/events`) as Footfall zone events (pure).

Frigate publishes a message when a tracked object becomes a true positive (`new`), when
it changes zones or gets a better snapshot (`update`), and when it is gone (`end`); each
carries the object's state at the previous message (`before`) and now (`after`), with the
zones it is in (`current_zones`). So one message alone tells what changed:

- zones in `after.current_zones` and not in the previous ones: `RegionJoin` at
  `after.frame_time` (for `new` the previous ones count as none: while Frigate still
  doubted the object, nothing was reported);
- zones in the previous ones and not in `after.current_zones`: `RegionLeave` at that time;
- `end`: a `RegionLeave` from every zone still current, at `after.end_time`.

Stays longer than 4 hours (a parked car): Footfall closes a stay 4 hours after the
object's last sign of presence (docs/api.md, Stays), so the bridge sends `Loitering`
for an object Frigate still reports in a zone, at most an hour apart. Each message also
gives `sightings`: per zone, whether the object joined it, is still in it, or left it, at
which instant; `loitering` turns the time since the last sign into Loitering events on an
hourly grid from that sign (the bridge's `Presences` keeps the last signs). The grid is
anchored at the join, so the same stay always gives the same Loitering record ids.

Cameras become channels (ids renamed with a camera map, else the camera's name) and each
camera's zones become its Zone triggers, id `{channel}:{zone}` (a zone name may be used on
several cameras; a trigger belongs to one channel). The object is Frigate's tracked object:
`object_id` and `record_id` are digests of its id, so the same message always gives the
same events, and a message delivered twice is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

__all__ = [
    "LABEL_ORIGINS",
    "LOITER_EVERY_MS",
    "CameraMap",
    "FrigateMessageError",
    "Place",
    "Sighting",
    "Translation",
    "loitering",
    "parse_camera_map",
    "server_config",
    "translate",
    "trigger_id",
]

MAX_ID = 64  # Footfall's channel and trigger ids: 1-64 characters, no comma
# At most this long between two signs of presence of an object still in a zone: well
# inside Footfall's 4 hours, so a late or lost Loitering never closes a stay.
LOITER_EVERY_MS = 3_600_000

# Frigate label -> (origin, suborigin) in Footfall's vocabulary (docs/api.md, Vocabulary).
LABEL_ORIGINS: Mapping[str, tuple[str, str]] = {
    "person": ("Pedestrian", "Unknown"),
    "car": ("Vehicle", "Car"),
    "truck": ("Vehicle", "Truck"),
    "bus": ("Vehicle", "Bus"),
    "motorcycle": ("Vehicle", "Motorcycle"),
    "bicycle": ("Vehicle", "Bicycle"),
    "boat": ("Vehicle", "Unknown"),
    "license_plate": ("Vehicle", "Unknown"),
    "face": ("Face", ""),
}


class FrigateMessageError(ValueError):
    """A message that is not a Frigate tracked-object event Footfall can read."""


CameraMap = Mapping[str, str]  # Frigate camera name -> Footfall channel id


def parse_camera_map(text: str | None) -> dict[str, str]:
    """`front_door=cam-front,garage=cam-garage` -> {"front_door": "cam-front", ...}."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        camera, sep, channel = (part.strip() for part in item.partition("="))
        if not sep or not camera or not channel:
            raise ValueError(
                f"--camera-map: {item.strip()!r} is not CAMERA=CHANNEL "
                "(e.g. front_door=cam-front,garage=cam-garage)"
            )
        if len(channel) > MAX_ID:
            raise ValueError(f"--camera-map: channel id {channel!r} is over {MAX_ID} characters")
        mapping[camera] = channel
    return mapping


def _digest(*parts: str) -> int:
    raw = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(raw, "big") >> 1  # 63 bits: a positive int64


def _fit(value: str) -> str:
    """At most MAX_ID characters, without commas; a long one keeps a digest of the rest."""
    value = value.replace(",", "_")
    if len(value) <= MAX_ID:
        return value
    return f"{value[: MAX_ID - 9]}~{_digest(value) % 16**8:08x}"


def channel_id(cameras: CameraMap, camera: str) -> str:
    return cameras.get(camera) or _fit(camera)


def trigger_id(channel: str, zone: str) -> str:
    return _fit(f"{channel}:{zone}")


@dataclass(frozen=True, order=True)
class Place:
    """A Frigate zone of a camera, as the Footfall channel and trigger it becomes."""

    channel_id: str
    trigger_id: str
    camera: str
    zone: str


@dataclass(frozen=True)
class Sighting:
    """What one message says about one tracked object and one zone, at `at` (ms)."""

    place: Place
    object_key: str  # Frigate's id of the tracked object
    object_id: int
    origin: str
    suborigin: str
    status: str  # "joined", "inside" (still in it) or "left"
    at: int


@dataclass(frozen=True)
class Translation:
    events: list[dict[str, Any]]
    places: list[Place]  # every (camera, zone) the events use: declared before sending
    sightings: list[Sighting] = field(default_factory=list)


def _ms(seconds: Any, field: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise FrigateMessageError(f"{field}: expected epoch seconds, got {seconds!r}")
    return round(seconds * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _zones(state: Mapping[str, Any], field: str) -> list[str]:
    zones = state.get("current_zones")
    if zones is None:
        zones = []
    if not isinstance(zones, list) or not all(isinstance(z, str) and z for z in zones):
        raise FrigateMessageError(f"{field}.current_zones: expected a list of zone names")
    return list(dict.fromkeys(zones))  # unique, in Frigate's order


def translate(payload: bytes | Mapping[str, Any], cameras: CameraMap | None = None) -> Translation:
    """The Footfall events of one `frigate/events` message (none for most updates)."""
    cameras = cameras or {}
    try:
        message = msgspec.json.decode(payload) if isinstance(payload, bytes) else payload
    except msgspec.DecodeError as exc:
        raise FrigateMessageError(f"not JSON: {exc}") from None
    if not isinstance(message, Mapping):
        raise FrigateMessageError("expected a JSON object with type, before and after")
    kind = message.get("type")
    after = message.get("after")
    before = message.get("before") or {}
    if kind not in ("new", "update", "end"):
        raise FrigateMessageError(f"type: expected new, update or end, got {kind!r}")
    if not isinstance(after, Mapping) or not isinstance(before, Mapping):
        raise FrigateMessageError("before/after: expected objects")
    if after.get("false_positive"):
        return Translation([], [])
    object_key = after.get("id")
    camera = after.get("camera")
    if not isinstance(object_key, str) or not object_key:
        raise FrigateMessageError("after.id: expected Frigate's tracked-object id")
    if not isinstance(camera, str) or not camera:
        raise FrigateMessageError("after.camera: expected the camera's name")
    label = after.get("label")
    origin, suborigin = LABEL_ORIGINS.get(label if isinstance(label, str) else "", ("Unknown", ""))

    previous = [] if kind == "new" else _zones(before, "before")
    current = _zones(after, "after")
    moved_at = _ms(after.get("frame_time"), "after.frame_time")
    changes = [("RegionLeave", z, moved_at) for z in previous if z not in current]
    changes += [("RegionJoin", z, moved_at) for z in current if z not in previous]
    stayed = [z for z in current if z in previous]
    if kind == "end":
        ended = after.get("end_time")
        ended_at = moved_at if ended is None else max(moved_at, _ms(ended, "after.end_time"))
        changes += [("RegionLeave", z, ended_at) for z in current]
        stayed = []

    channel = channel_id(cameras, camera)
    object_id = _digest("object", camera, object_key) % 2_147_483_647 + 1
    events: list[dict[str, Any]] = []
    places: dict[str, Place] = {}
    sightings: list[Sighting] = []
    status = {"RegionJoin": "joined", "RegionLeave": "left"}
    for event_type, zone, at in [*changes, *(("", z, moved_at) for z in stayed)]:
        place = Place(channel, trigger_id(channel, zone), camera, zone)
        places[place.trigger_id] = place
        sighting = Sighting(
            place, object_key, object_id, origin, suborigin, status.get(event_type, "inside"), at
        )
        sightings.append(sighting)
        if event_type:
            events.append(_event(sighting, event_type, at))
    return Translation(events, sorted(places.values()), sightings)


def _event(sighting: Sighting, event_type: str, at: int) -> dict[str, Any]:
    place = sighting.place
    return {
        "record_id": _digest(
            "event", place.camera, sighting.object_key, place.zone, event_type, str(at)
        ),
        "event_type": event_type,
        "trigger_id": place.trigger_id,
        "channel_id": place.channel_id,
        "object_id": sighting.object_id,
        "origin": sighting.origin,
        "suborigin": sighting.suborigin,
        "event_time": _iso(at),
    }


def loitering(sighting: Sighting, last_sign: int, until: int) -> tuple[list[dict[str, Any]], int]:
    """The Loitering events of an object reported in the zone from its last sign of
    presence (`last_sign`) until `until`: at last_sign + k hours (k >= 1) up to `until`,
    so no gap between signs exceeds an hour; and the new last sign."""
    events: list[dict[str, Any]] = []
    at = last_sign + LOITER_EVERY_MS
    while at <= until:
        events.append(_event(sighting, "Loitering", at))
        last_sign = at
        at += LOITER_EVERY_MS
    return events, last_sign


def server_config(places: Iterable[Place], version: str) -> dict[str, Any]:
    """The `PUT /ingest/v1/config` body declaring every camera and zone seen so far."""
    channels: dict[str, dict[str, Any]] = {}
    for place in sorted(places):
        channel = channels.setdefault(
            place.channel_id,
            {"id": place.channel_id, "name": place.camera, "paid": 1, "triggers": []},
        )
        channel["triggers"].append({"id": place.trigger_id, "name": place.zone, "type": "Zone"})
    return {"version": version, "channels": list(channels.values())}
