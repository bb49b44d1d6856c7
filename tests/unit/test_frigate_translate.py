"""Frigate's tracked-object messages as Footfall zone events (pure translation)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from footfall.bridge.frigate import (
    FrigateMessageError,
    parse_camera_map,
    server_config,
    translate,
    trigger_id,
)
from tests.frigate_data import recorded

T0 = 1607123955.475377


def all_events(cameras: dict[str, str] | None = None) -> list[dict[str, object]]:
    return [e for m in recorded() for e in translate(json.dumps(m).encode(), cameras).events]


def test_the_recorded_messages_give_every_zone_entry_and_exit_once() -> None:
    events = all_events({"yard": "cam-yard"})
    summary = [(e["event_type"], e["trigger_id"], e["event_time"]) for e in events]
    assert summary == [
        ("RegionJoin", "front_door:porch", "2020-12-04T23:19:18.975+00:00"),
        ("RegionJoin", "front_door:driveway", "2020-12-04T23:19:17.875+00:00"),
        ("RegionJoin", "cam-yard:gate", "2020-12-04T23:19:20.475+00:00"),
        ("RegionLeave", "front_door:porch", "2020-12-04T23:19:21.725+00:00"),
        ("RegionJoin", "front_door:driveway", "2020-12-04T23:19:21.725+00:00"),
        ("RegionLeave", "front_door:driveway", "2020-12-04T23:19:23.225+00:00"),
        ("RegionLeave", "cam-yard:gate", "2020-12-04T23:19:24.975+00:00"),
        ("RegionLeave", "front_door:driveway", "2020-12-04T23:19:27.975+00:00"),
    ]
    # One object, one object_id: the person's join and leave pair up; the car is another.
    person = {e["object_id"] for e in events if e["origin"] == "Pedestrian"}
    assert len(person) == 2  # the person on front_door and the one on the yard
    cars = [e for e in events if e["origin"] == "Vehicle"]
    assert {e["suborigin"] for e in cars} == {"Car"}
    assert len(cars) == 2
    assert len({e["record_id"] for e in events}) == len(events)
    assert all(0 < int(str(e["record_id"])) < 2**63 for e in events)


def test_the_same_message_always_gives_the_same_record_ids() -> None:
    assert all_events() == all_events()


def test_a_false_positive_gives_nothing() -> None:
    dog = [m for m in recorded() if m["after"]["label"] == "dog"]
    assert dog
    assert translate(dog[0]).events == []


def test_places_declare_cameras_as_channels_and_zones_as_zone_triggers() -> None:
    places = {p for m in recorded() for p in translate(m, {"yard": "cam-yard"}).places}
    config = server_config(places, "bridge 1")
    assert config == {
        "version": "bridge 1",
        "channels": [
            {
                "id": "cam-yard",
                "name": "yard",
                "paid": 1,
                "triggers": [{"id": "cam-yard:gate", "name": "gate", "type": "Zone"}],
            },
            {
                "id": "front_door",
                "name": "front_door",
                "paid": 1,
                "triggers": [
                    {"id": "front_door:driveway", "name": "driveway", "type": "Zone"},
                    {"id": "front_door:porch", "name": "porch", "type": "Zone"},
                ],
            },
        ],
    }


def test_labels_map_to_origins() -> None:
    message = recorded()[1]
    seen: Counter[str] = Counter()
    for label, expected in [
        ("person", ("Pedestrian", "Unknown")),
        ("car", ("Vehicle", "Car")),
        ("bicycle", ("Vehicle", "Bicycle")),
        ("cat", ("Unknown", "")),
    ]:
        after = {**message["after"], "label": label}
        (event,) = translate({**message, "after": after}).events
        assert (event["origin"], event["suborigin"]) == expected
        seen[label] += 1
    assert sum(seen.values()) == 4


def test_long_names_still_make_valid_ids() -> None:
    trigger = trigger_id("c" * 40, "z" * 40)
    assert len(trigger) == 64
    assert "," not in trigger
    assert trigger != trigger_id("c" * 40, "z" * 39 + "y")


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"type": "stats", "after": {}}', "type"),
        (b'{"type": "update", "before": {}, "after": {"camera": "c"}}', "after.id"),
        (
            b'{"type": "update", "before": {}, "after": {"id": "x", "camera": "c", '
            b'"current_zones": "porch", "frame_time": 1}}',
            "current_zones",
        ),
        (
            b'{"type": "update", "before": {}, "after": {"id": "x", "camera": "c", '
            b'"current_zones": ["porch"], "frame_time": "soon"}}',
            "frame_time",
        ),
    ],
)
def test_malformed_messages_are_named(payload: bytes, complaint: str) -> None:
    with pytest.raises(FrigateMessageError, match=complaint):
        translate(payload)


def test_camera_map_syntax() -> None:
    assert parse_camera_map("front_door=cam-front, yard = cam-yard") == {
        "front_door": "cam-front",
        "yard": "cam-yard",
    }
    assert parse_camera_map(None) == {}
    with pytest.raises(ValueError, match="CAMERA=CHANNEL"):
        parse_camera_map("front_door")
