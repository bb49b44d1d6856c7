"""Moving objects in a frame: background subtraction (OpenCV MOG2) at half resolution,
cleaned by morphology, contours to boxes, and a classification from the box's shape that
says Unknown rather than guess.

Shapes: an upright box (taller than wide) is a Pedestrian; a wide, large box a Vehicle (a
Car, or a Truck when very large); anything else Unknown. The background model learns fast
for its first two seconds, then so slowly that a person standing still stays foreground for
about two minutes (long enough to loiter) while lighting drifts are still absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv
from cv2.typing import MatLike

__all__ = ["CHANGED", "CLASSES", "DARK", "Detector", "FrameFacts"]

# class ids of the detections -> (origin, suborigin)
CLASSES: dict[int, tuple[str, str]] = {
    0: ("Unknown", ""),
    1: ("Pedestrian", "Unknown"),
    2: ("Vehicle", "Car"),
    3: ("Vehicle", "Truck"),
}

Frame = MatLike
DARK = 15.0  # mean grey level below which the view is blacked out or covered
CHANGED = 0.6  # fraction of the view in motion above which the camera itself moved


@dataclass(frozen=True)
class FrameFacts:
    detections: sv.Detections
    foreground: MatLike  # the motion mask, at half resolution
    brightness: float  # mean grey level, 0-255
    changed: float  # fraction of the frame in motion


class Detector:
    def __init__(self, min_area: int = 600, fps: float = 25.0) -> None:
        self.scale = 0.5
        self.min_area = min_area * self.scale * self.scale
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            history=int(60 * fps), varThreshold=25, detectShadows=False
        )
        self.warmup = int(2 * fps)
        # MOG2 makes a colour background once its weight passes 1 - backgroundRatio (0.1):
        # after 0.1 / rate frames. 120 s of stillness, then.
        self.rate = 0.1 / (120 * fps)
        self.frames = 0
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    def __call__(self, frame: Frame) -> FrameFacts:
        small = cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        self.frames += 1
        mask = self.subtractor.apply(
            small, learningRate=-1 if self.frames <= self.warmup else self.rate
        )
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.kernel, iterations=2)
        brightness = float(grey.mean())
        changed = float(np.count_nonzero(mask)) / mask.size
        if brightness < DARK or changed > CHANGED:
            # A covered or moved camera: what "moves" is the whole view, not objects.
            return FrameFacts(sv.Detections.empty(), mask, brightness, changed)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[list[float]] = []
        classes: list[int] = []
        for contour in contours:
            if cv2.contourArea(contour) < self.min_area:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append(
                [x / self.scale, y / self.scale, (x + w) / self.scale, (y + h) / self.scale]
            )
            classes.append(_classify(w / self.scale, h / self.scale))
        if boxes:
            detections = sv.Detections(
                xyxy=np.array(boxes, dtype=np.float32),
                confidence=np.full(len(boxes), 0.9, dtype=np.float32),
                class_id=np.array(classes, dtype=int),
            )
        else:
            detections = sv.Detections.empty()
        return FrameFacts(
            detections, mask, float(grey.mean()), float(np.count_nonzero(mask)) / mask.size
        )


def _classify(width: float, height: float) -> int:
    if height > 1.4 * width and height > 60:
        return 1
    if width > 1.5 * height and width * height > 9000:
        return 3 if width * height > 40000 else 2
    return 0
