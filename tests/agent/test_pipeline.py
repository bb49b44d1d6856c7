"""The agent's video analytics on synthetic videos with known ground truth."""

from __future__ import annotations

import importlib.metadata
import itertools
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import pytest

from footfall.agent.config import ChannelConfig, DetectorConfig, TriggerConfig
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.source import VideoSource
from footfall.agent.synthetic import FPS, Scenario, render, standard_scenario, zone_scenario

START = 1_764_000_000_000
LINE = ((640, 0), (640, 720))
ZONE = ((100, 200), (500, 200), (500, 560), (100, 560))
FRAME_MS = 1000 / FPS


def run(scenario: Scenario, triggers: tuple[TriggerConfig, ...], tmp: Path) -> list[dict[str, Any]]:
    cv2.setNumThreads(1)
    path = render(scenario, tmp / "video.avi")
    # The rendered figures are drawn shapes, not people a learned detector knows: these
    # tests are of the motion-and-HOG path and of the rules (the learned detector is
    # tested on photographs in test_learned.py and on real footage).
    people = DetectorConfig(kind="people")
    channel = ChannelConfig(
        "cam", "Camera", str(path), triggers, start_time_ms=START, detector=people
    )
    source = VideoSource(channel)
    fps, shape = source.probe()
    pipeline = ChannelPipeline(channel, 0, fps, shape)
    events: list[dict[str, Any]] = []
    for frame, t_ms in source.frames():
        events.extend(pipeline.process(frame, t_ms))
    return events


def _t(event: dict[str, Any]) -> float:
    """Seconds from the start of the video."""
    from datetime import datetime

    return (datetime.fromisoformat(event["event_time"]).timestamp() * 1000 - START) / 1000


@pytest.fixture(scope="module")
def line_events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return run(
        standard_scenario(),
        (
            TriggerConfig("t-in", "In", "Line", line=LINE, direction="forward"),
            TriggerConfig("t-out", "Out", "Line", line=LINE, direction="backward"),
            TriggerConfig("t-both", "Both", "Line", line=LINE, direction="both"),
            TriggerConfig("t-scene", "Scene", "Scene"),
        ),
        tmp_path_factory.mktemp("line"),
    )


def test_line_counts_equal_the_ground_truth(line_events: list[dict[str, Any]]) -> None:
    scenario = standard_scenario()
    truth = scenario.crossing_times(640, (0, 720))
    counted = Counter(
        (e["trigger_id"], e["origin"]) for e in line_events if e["event_type"] == "TripwireCrossed"
    )
    by_kind = Counter(direction for _, direction in truth)
    assert counted[("t-in", "Pedestrian")] + counted[("t-in", "Vehicle")] == by_kind["forward"]
    assert counted[("t-out", "Pedestrian")] + counted[("t-out", "Vehicle")] == by_kind["backward"]
    assert sum(v for (t, _), v in counted.items() if t == "t-both") == len(truth)
    # Classes: 19 people and 4 cars; the dithering person never counts (no flicker).
    cars = sum(1 for a in scenario.actors if a.kind == "car")
    assert counted[("t-both", "Vehicle")] == cars
    assert counted[("t-both", "Pedestrian")] == len(truth) - cars
    assert counted[("t-in", "Unknown")] + counted[("t-out", "Unknown")] == 0


def test_tailgating_is_two_crossings_within_a_second(line_events: list[dict[str, Any]]) -> None:
    truth = standard_scenario().crossing_times(640, (0, 720))
    forward = [f for f, d in truth if d == "forward"]
    expected = sum(1 for a, b in itertools.pairwise(forward) if b - a <= FPS)
    tailgates = [
        e for e in line_events if e["event_type"] == "Tailgating" and e["trigger_id"] == "t-in"
    ]
    assert len(tailgates) == expected == 1
    crossing = next(
        e
        for e in line_events
        if e["event_type"] == "TripwireCrossed"
        and e["record_id"] // 1000 == tailgates[0]["record_id"] // 1000
    )
    assert crossing["object_id"] == tailgates[0]["object_id"]


def test_scene_objects_appear_and_disappear_in_pairs(line_events: list[dict[str, Any]]) -> None:
    appeared = Counter(e["object_id"] for e in line_events if e["event_type"] == "ObjectAppear")
    gone = Counter(e["object_id"] for e in line_events if e["event_type"] == "ObjectDisappear")
    assert appeared == gone
    assert all(count == 1 for count in appeared.values())


def test_zone_visits_loitering_crowd_motion_and_sabotage(tmp_path: Path) -> None:
    scenario = zone_scenario()
    events = run(
        scenario,
        (
            TriggerConfig(
                "t-zone",
                "Zone",
                "Zone",
                polygon=ZONE,
                loitering_seconds=4,
                crowd_count=3,
                crowd_seconds=2,
            ),
            TriggerConfig("t-scene", "Scene", "Scene"),
        ),
        tmp_path,
    )
    kinds = Counter(e["event_type"] for e in events)
    stays = scenario.zone_stays(ZONE)
    assert kinds["RegionJoin"] == kinds["RegionLeave"] == len(stays) == 6
    joins = {e["object_id"] for e in events if e["event_type"] == "RegionJoin"}
    leaves = {e["object_id"] for e in events if e["event_type"] == "RegionLeave"}
    assert joins == leaves
    long_stays = [(a, b) for a, b in stays if b - a >= 4 * FPS]
    loiters = sorted(_t(e) for e in events if e["event_type"] == "Loitering")
    assert len(loiters) == len(long_stays) == 4
    for (entered, _), at in zip(long_stays, loiters, strict=True):
        assert abs(at - (entered / FPS + 4)) < 0.5  # 4 s after the join (3 frames late)
    # Three inside together from the third's entry; CrowdOn 2 s later, Off at a leave.
    crowd = sorted(stays)[-3:]
    on = next(_t(e) for e in events if e["event_type"] == "CrowdOn")
    off = next(_t(e) for e in events if e["event_type"] == "CrowdOff")
    assert abs(on - (max(a for a, _ in crowd) / FPS + 2)) < 0.5
    assert abs(off - min(b for _, b in crowd) / FPS) < 0.5
    assert kinds["MotionInRegionOn"] == kinds["MotionInRegionOff"] >= 1
    assert kinds["Sabotage"] == 1
    assert scenario.dark is not None
    sabotage = next(_t(e) for e in events if e["event_type"] == "Sabotage")
    assert scenario.dark[0] / FPS <= sabotage <= scenario.dark[0] / FPS + 1
    assert all(e["origin"] == "Pedestrian" for e in events if e["object_id"] >= 0)


def test_processing_a_file_again_gives_the_same_events(tmp_path: Path) -> None:
    scenario = zone_scenario()
    triggers = (TriggerConfig("t-zone", "Zone", "Zone", polygon=ZONE),)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = run(scenario, triggers, tmp_path / "a")
    second = run(scenario, triggers, tmp_path / "b")
    assert first == second
    ids = [e["record_id"] for e in first]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_exactly_one_cv2_is_installed() -> None:
    owners = [
        dist.metadata["Name"]
        for dist in importlib.metadata.distributions()
        if any(
            str(f).startswith("cv2/") and str(f).endswith("__init__.py") for f in dist.files or []
        )
    ]
    assert owners == ["opencv-contrib-python-headless"]
    assert len(cv2.HOGDescriptor.getDefaultPeopleDetector()) > 0  # bundled, not downloaded
    # OpenCV 4 ships the Haar cascades (5 does not): the agent's face detector needs one.
    assert (Path(cv2.__file__).parent / "data" / "haarcascade_frontalface_default.xml").is_file()
    checked = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stdout
