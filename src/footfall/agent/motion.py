"""Where the picture moves: background subtraction on a scaled-down copy (half resolution
for the HOG pipeline, 320 px wide for the learned detectors, agent/detect.py), cleaned by
morphology, and the boxes of the moving blobs (at full resolution).

The background model (OpenCV's MOG2 subtractor, deterministic: a file processed again gives
the same events, hence the same record ids) learns fast for its first two seconds, then so
slowly that an object standing still stays foreground for about two minutes (long enough
to loiter) while lighting drifts are still absorbed; it marks shadows apart and they are
not motion. The people detector also looks where every tracked object is expected
(`people.py`), so a person is not lost where the motion mask loses them. The opening is
small (3 px at half resolution) so that legs, hence the feet that lines and zones count
by, survive it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from cv2.typing import MatLike

__all__ = ["CHANGED", "DARK", "Motion", "MotionFacts"]

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 at full resolution

DARK = 15.0  # mean grey level below which the view is blacked out or covered
CHANGED = 0.6  # fraction of the view in motion above which the camera itself moved
STILL_SECONDS = 120.0  # how long something must stand still to become background
WARMUP_SECONDS = 2.0  # the model learns fast at first, for the empty scene


@dataclass(frozen=True)
class MotionFacts:
    blobs: list[Box]
    foreground: MatLike  # the motion mask, at half resolution
    brightness: float  # mean grey level, 0-255
    changed: float  # fraction of the frame in motion

    @property
    def sabotaged(self) -> bool:
        """A covered or moved camera: what "moves" is the whole view, not objects."""
        return self.brightness < DARK or self.changed > CHANGED


class Motion:
    def __init__(self, min_area: int = 600, fps: float = 25.0, scale: float = 0.5) -> None:
        self.scale = scale
        self.min_area = min_area * self.scale * self.scale
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            history=max(50, int(STILL_SECONDS * fps)), varThreshold=16, detectShadows=True
        )
        self.warmup = int(WARMUP_SECONDS * fps)
        # MOG2 makes a colour background once its weight passes 1 - backgroundRatio (0.1):
        # after 0.1 / rate frames.
        self.rate = 0.1 / (STILL_SECONDS * fps)
        self.frames = 0
        self.opening = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.closing = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    def __call__(self, frame: MatLike) -> MotionFacts:
        small = cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        self.frames += 1
        mask = self.subtractor.apply(
            small, learningRate=-1 if self.frames <= self.warmup else self.rate
        )
        # 255 is foreground, 127 a shadow: only the first is an object.
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.opening)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.closing, iterations=2)
        brightness = float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())
        changed = float(np.count_nonzero(mask)) / mask.size
        blobs: list[Box] = []
        if not (brightness < DARK or changed > CHANGED):
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                if cv2.contourArea(contour) < self.min_area:
                    continue
                x, y, w, h = cv2.boundingRect(contour)
                s = self.scale
                blobs.append((x / s, y / s, (x + w) / s, (y + h) / s))
        return MotionFacts(blobs, mask, brightness, changed)
