"""Batch decoding and checking, without a database."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from footfall.domain.ingest import BodyError, Problem, check_events, decode_events


@dataclass(frozen=True)
class Trigger:
    channel_id: str
    type: str


TRIGGERS = {"t-in": Trigger("cam", "Line"), "t-zone": Trigger("cam", "Zone")}
NOW = 1_800_000_000_000


def body(*events: dict[str, object]) -> bytes:
    return json.dumps(list(events)).encode()


def good(**extra: object) -> dict[str, object]:
    return {
        "record_id": 1,
        "event_type": "TripwireCrossed",
        "trigger_id": "t-in",
        "channel_id": "cam",
        "event_time": "2026-11-25T10:15:02.250-05:00",
        **extra,
    }


def test_defaults_fill_the_optional_fields() -> None:
    events, problems = decode_events(body(good()))
    rows, problems = check_events(7, events, TRIGGERS, NOW, problems)
    assert problems == []
    assert rows == [
        (7, 1, "TripwireCrossed", "t-in", "cam", -1, "Unknown", "", "", "", 0, 1795619702250)
    ]


def test_unknown_fields_are_ignored() -> None:
    events, _ = decode_events(body(good(colour="red")))
    rows, problems = check_events(7, events, TRIGGERS, NOW)
    assert problems == []
    assert len(rows) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"[{", "not valid JSON"),
        (b"{}", "got a JSON object"),
        (b"[1]", "item 0 is a JSON number"),
        (b"[{}, []]", "item 1 is a JSON array"),
        (b'"x"', "got a JSON string"),
    ],
)
def test_bodies_that_are_not_arrays_of_objects(raw: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        decode_events(raw)


def test_wrong_json_types_are_named_per_field() -> None:
    events, problems = decode_events(
        body(good(), good(record_id=True, object_id="6", origin=None), {"record_id": 3})
    )
    assert events[0] is not None
    assert events[1] is None
    assert events[2] is None
    assert [(p.index, p.field) for p in problems] == [
        (1, "record_id"),
        (1, "object_id"),
        (1, "origin"),
        (2, "event_type"),
        (2, "trigger_id"),
        (2, "channel_id"),
        (2, "event_time"),
    ]


def test_suborigin_must_fit_the_origin() -> None:
    cases = [
        ("Vehicle", "Car", True),
        ("Vehicle", "", False),
        ("Pedestrian", "Unknown", True),
        ("Pedestrian", "", True),
        ("Face", "", True),
        ("Face", "Car", False),
    ]
    for origin, suborigin, ok in cases:
        events, _ = decode_events(body(good(origin=origin, suborigin=suborigin)))
        _, problems = check_events(1, events, TRIGGERS, NOW)
        assert (problems == []) is ok, (origin, suborigin, problems)


def test_future_limit_is_ten_minutes() -> None:
    from footfall.domain.times import format_local, parse_zone

    zone = parse_zone("UTC")
    at_limit = format_local(NOW + 600_000, zone)
    past_limit = format_local(NOW + 600_001, zone)
    events, _ = decode_events(body(good(event_time=at_limit), good(event_time=past_limit)))
    _, problems = check_events(1, events, TRIGGERS, NOW)
    assert [(p.index, p.field) for p in problems] == [(1, "event_time")]


def test_batch_size_limit() -> None:
    events, _ = decode_events(body(*[good(record_id=i) for i in range(10_001)]))
    with pytest.raises(BodyError) as caught:
        check_events(1, events, TRIGGERS, NOW)
    assert caught.value.too_large


def test_problems_passed_in_are_kept_first() -> None:
    earlier = [Problem(0, "record_id", "expected an integer")]
    _, problems = check_events(1, [None], TRIGGERS, NOW, earlier)
    assert problems == earlier
