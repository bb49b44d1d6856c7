"""Frigate's tracked-object messages as Footfall zone events (pure translation)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from footfall.bridge.frigate import (
    FrigateMessageError,
    loitering,
    parse_camera_map,
    server_config,
    translate,
    trigger_id,
)
from footfall.bridge.presence import Presences
from tests.frigate_data import parked_car, recorded

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


# --- parked cars: Loitering at most an hour apart ----------------------------------------

HOUR_MS = 3_600_000
_kept: list[dict[str, object]] = []  # what a test does not look at: "spooled" here


def _loitering_times(events: list[dict[str, object]]) -> list[str]:
    return [str(e["event_time"]) for e in events if e["event_type"] == "Loitering"]


def test_each_message_says_which_zones_the_object_joined_is_in_or_left() -> None:
    new, update, end = parked_car("garage", "carport", T0, T0 + 5 * 3600, T0 + 6 * 3600)
    assert [(s.status, s.place.trigger_id) for s in translate(new).sightings] == [
        ("joined", "garage:carport")
    ]
    [inside] = translate(update).sightings
    assert (inside.status, inside.at) == ("inside", round((T0 + 5 * 3600) * 1000))
    assert translate(update).events == []  # nothing changed: no join, no leave
    assert [s.status for s in translate(end).sightings] == ["left"]


def test_loitering_fills_the_gap_from_the_last_sign_on_an_hourly_grid() -> None:
    [sighting] = translate(parked_car("garage", "carport", T0, T0 + 1)[1]).sightings
    joined = round(T0 * 1000)
    events, last = loitering(sighting, joined, joined + 5 * HOUR_MS - 60_000)
    times = [joined + k * HOUR_MS for k in range(1, 5)]
    assert [e["event_time"] for e in events] == [_iso(t) for t in times]
    assert last == times[-1]
    assert {e["trigger_id"] for e in events} == {"garage:carport"}
    assert {e["object_id"] for e in events} == {sighting.object_id}
    assert loitering(sighting, joined, joined + HOUR_MS - 1) == ([], joined)
    again, _ = loitering(sighting, joined, joined + 5 * HOUR_MS)
    assert [e["record_id"] for e in again[:4]] == [e["record_id"] for e in events]


def test_a_late_update_about_a_car_parked_5_hours_fills_every_hour(tmp_path: Path) -> None:
    """Frigate's `new` for a car that arrived 5 h ago, then an `update` a minute ago that
    it is still there: Loitering from the join up to now, at most an hour apart."""
    now = T0 + 5 * 3600
    new, update = parked_car("garage", "carport", T0, now - 60)
    presence = Presences(tmp_path / "spool.db")
    spooled: list[dict[str, object]] = []
    try:
        assert presence.apply(translate(new).sightings, spooled.extend) == []
        filled = presence.apply(translate(update).sightings, spooled.extend)
        joined = round(T0 * 1000)
        signs = [joined] + [joined + k * HOUR_MS for k in range(1, 5)]
        assert _loitering_times(filled) == [_iso(t) for t in signs[1:]]
        assert all(b - a <= HOUR_MS for a, b in itertools.pairwise(signs))
        assert round(now * 1000) - signs[-1] <= HOUR_MS
        assert spooled == filled
        # The same message again (a redelivery after a crash) sends nothing new.
        assert presence.apply(translate(update).sightings, spooled.extend) == []
        assert presence.count() == 1
    finally:
        presence.close()


def test_the_end_fills_up_to_the_leave_and_closes_the_stay(tmp_path: Path) -> None:
    new, update, end = parked_car("garage", "carport", T0, T0 + 60, T0 + 3 * 3600 + 30)
    presence = Presences(tmp_path / "spool.db")
    try:
        presence.apply(translate(new).sightings, _kept.extend)
        presence.apply(translate(update).sightings, _kept.extend)
        filled = presence.apply(translate(end).sightings, _kept.extend)
        joined = round(T0 * 1000)
        assert _loitering_times(filled) == [_iso(joined + k * HOUR_MS) for k in (1, 2, 3)]
        assert [e["event_type"] for e in translate(end).events] == ["RegionLeave"]
        assert presence.count() == 0
    finally:
        presence.close()


def test_a_quiet_parked_car_gets_hourly_loitering_from_the_clock(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    presence = Presences(path)
    joined = round(T0 * 1000)
    try:
        presence.apply(
            translate(parked_car("garage", "carport", T0, T0 + 1)[0]).sightings, _kept.extend
        )
        assert presence.due(joined + HOUR_MS - 1, _kept.extend) == []
        assert len(presence.due(joined + 2 * HOUR_MS + 5, _kept.extend)) == 2
    finally:
        presence.close()
    reopened = Presences(path)  # kept across a restart of the bridge
    try:
        assert _loitering_times(reopened.due(joined + 3 * HOUR_MS, _kept.extend)) == [
            _iso(joined + 3 * HOUR_MS)
        ]
        # Frigate went offline: its objects are gone with it, nothing more is sent.
        assert reopened.forget() == 1
        assert reopened.due(joined + 9 * HOUR_MS, _kept.extend) == []
    finally:
        reopened.close()


def test_an_object_the_bridge_saw_no_join_for_gets_no_loitering(tmp_path: Path) -> None:
    presence = Presences(tmp_path / "spool.db")
    try:
        update = parked_car("garage", "carport", T0, T0 + 5 * 3600)[1]
        assert presence.apply(translate(update).sightings, _kept.extend) == []
        assert presence.count() == 0
    finally:
        presence.close()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
