"""An object still inside a zone sends a Loitering at least every hour, so the server,
which closes a stay 4 h after the object's last sign of presence (its RegionJoin or a
later Loitering), keeps the stay of a person who waits for hours open. Frame times are
given; nothing sleeps."""

from __future__ import annotations

import itertools

import numpy as np
import supervision as sv

from footfall.agent.config import TriggerConfig
from footfall.agent.detect import FrameFacts
from footfall.agent.rules import ZoneRule

ZONE = ((100, 100), (300, 100), (300, 300), (100, 300))
HOUR = 3_600_000


def facts() -> FrameFacts:
    return FrameFacts(sv.Detections.empty(), np.zeros((240, 320), np.uint8), 120.0, 0.0)


def at(x: float, y: float, obj: int = 7) -> sv.Detections:
    found = sv.Detections(
        xyxy=np.array([[x - 10, y - 40, x + 10, y]], dtype=np.float32),
        class_id=np.array([1]),
    )
    found.tracker_id = np.array([obj])
    return found


def stay(trigger: TriggerConfig, hours: float, step_ms: int) -> list[tuple[int, str]]:
    rule = ZoneRule(trigger, 3, (240, 320), 0.5)
    events: list[tuple[int, str]] = []
    t = 0
    for _ in range(3):  # outside, then it walks in
        rule.update(at(50, 200), t, facts())
        t += step_ms
    while t <= hours * HOUR:
        events += [(t, e.event_type) for e in rule.update(at(200, 200), t, facts())]
        t += step_ms
    return events


def gaps(events: list[tuple[int, str]]) -> list[int]:
    signs = [t for t, kind in events if kind in ("RegionJoin", "Loitering")]
    return [b - a for a, b in itertools.pairwise(signs)]


def test_a_waiting_object_shows_presence_within_every_hour() -> None:
    plain = TriggerConfig("z", "Zone", "Zone", polygon=ZONE)
    events = stay(plain, 5, 1000)
    assert [kind for _, kind in events[:1]] == ["RegionJoin"]
    assert [kind for _, kind in events].count("Loitering") == 5  # 5 h: every 55 min
    assert max(gaps(events)) <= HOUR


def test_the_configured_loitering_comes_first_and_the_hourly_ones_follow() -> None:
    loiter = TriggerConfig("z", "Zone", "Zone", polygon=ZONE, loitering_seconds=600)
    events = stay(loiter, 3, 5000)
    loitering = [t for t, kind in events if kind == "Loitering"]
    joined = next(t for t, kind in events if kind == "RegionJoin")
    assert loitering[0] - joined == 600_000  # after the configured 10 minutes
    assert max(gaps(events)) <= HOUR
    # Then every 55 minutes: at 65, 120 and 175 minutes, within the 3 hours.
    assert loitering == [joined + 600_000 + n * 55 * 60_000 for n in range(4)]


def test_a_slow_stream_still_keeps_every_gap_within_the_hour() -> None:
    # One frame a minute: the refresh comes at the first frame 55 minutes on.
    events = stay(TriggerConfig("z", "Zone", "Zone", polygon=ZONE), 4, 60_000)
    assert max(gaps(events)) <= HOUR


def test_an_object_that_leaves_sends_no_more() -> None:
    rule = ZoneRule(TriggerConfig("z", "Zone", "Zone", polygon=ZONE), 3, (240, 320), 0.5)
    kinds: list[str] = []
    t = 0
    for x in [50] * 3 + [200] * 5 + [400] * 5:
        kinds += [e.event_type for e in rule.update(at(x, 200), t, facts())]
        t += 1000
    for _ in range(200):  # two hundred minutes outside
        kinds += [e.event_type for e in rule.update(at(400, 200), t, facts())]
        t += 60_000
    assert kinds == ["RegionJoin", "RegionLeave"]
