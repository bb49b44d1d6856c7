"""The detector against the ground-truth boxes: recall and precision at IoU >= 0.5.

On every frame the detector ran on, each found person is matched greedily (most
confident first) to the unmatched ground-truth box it overlaps most; a match of IoU
>= 0.5 is a true positive. A detection that matches only a box the ground truth marks
"ignore" (conf 0: e.g. people on the far road in PETS 2009) is neither right nor wrong.
Rows of other classes in MOT16-style files (9 columns: class 1 is a pedestrian) are
ignore boxes too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["BoxScore", "GroundTruth", "load_boxes"]

Box = tuple[float, float, float, float]
IOU = 0.5


@dataclass
class GroundTruth:
    people: dict[int, list[Box]]  # frame (1-based) -> boxes to find
    ignored: dict[int, list[Box]]  # frame -> boxes neither to find nor to blame


def load_boxes(path: Path) -> GroundTruth:
    people: dict[int, list[Box]] = defaultdict(list)
    ignored: dict[int, list[Box]] = defaultdict(list)
    for line in path.read_text().splitlines():
        cells = [c for c in line.replace(" ", "").split(",") if c]
        if len(cells) < 7:
            continue
        frame = int(float(cells[0]))
        x, y, w, h = (float(c) for c in cells[2:6])
        wanted = float(cells[6]) != 0
        if len(cells) == 9:  # MOT16 and later: class in column 8, 1 = pedestrian
            wanted = wanted and int(float(cells[7])) == 1
        (people if wanted else ignored)[frame].append((x, y, x + w, y + h))
    return GroundTruth(dict(people), dict(ignored))


def _iou(a: Box, b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.asarray(inter / np.maximum(union, 1e-9), dtype=np.float64)


@dataclass
class BoxScore:
    found: int = 0  # true positives
    missed: int = 0
    wrong: int = 0  # false positives
    frames: int = 0

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.missed) if self.found + self.missed else 1.0

    @property
    def precision(self) -> float:
        return self.found / (self.found + self.wrong) if self.found + self.wrong else 1.0

    def add(self, truth: GroundTruth, frame: int, detected: list[tuple[Box, float]]) -> None:
        self.frames += 1
        people = np.array(truth.people.get(frame, []), dtype=np.float64).reshape(-1, 4)
        ignored = np.array(truth.ignored.get(frame, []), dtype=np.float64).reshape(-1, 4)
        free = np.ones(len(people), dtype=bool)
        for box, _ in sorted(detected, key=lambda d: -d[1]):
            overlap = _iou(box, people) if len(people) else np.zeros(0)
            overlap[~free] = 0
            if len(overlap) and overlap.max() >= IOU:
                free[int(overlap.argmax())] = False
                self.found += 1
            elif not (len(ignored) and _iou(box, ignored).max() >= IOU):
                self.wrong += 1
        self.missed += int(free.sum())
