"""How tall a person is, in pixels, where their feet are: learned from the people found.

On flat ground seen by a fixed camera, a person's height in the picture grows linearly
with the image row of their feet (it is zero at the horizon), so `h = a + b * y` fits a
scene once a few dozen people have been found. The fit is robust: it is refitted on the
samples within 25 % of the previous fit, so a few wrong detections do not bend it.
Until it has enough samples it knows nothing, and everything is plausible.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["Perspective"]

MIN_SAMPLES = 40
REFIT_EVERY = 20
LOW, HIGH = 0.7, 1.45  # a plausible person, as a fraction of the expected height


class Perspective:
    def __init__(self) -> None:
        self.samples: deque[tuple[float, float]] = deque(maxlen=2000)
        self.fit: tuple[float, float] | None = None
        self._added = 0

    def add(self, foot_y: float, height: float) -> None:
        self.samples.append((foot_y, height))
        self._added += 1
        if len(self.samples) >= MIN_SAMPLES and self._added % REFIT_EVERY == 0:
            self._refit()

    def _refit(self) -> None:
        data = np.array(self.samples, dtype=np.float64)
        y, h = data[:, 0], data[:, 1]
        keep = np.ones(len(data), dtype=bool)
        for _ in range(3):
            if keep.sum() < MIN_SAMPLES // 2 or np.ptp(y[keep]) < 1:
                # Everyone at one row: no slope to learn, the height is a constant.
                fit = (float(np.median(h)), 0.0)
            else:
                slope, intercept = np.polyfit(y[keep], h[keep], 1)
                fit = (float(intercept), float(slope))
            expected = np.maximum(1.0, fit[0] + fit[1] * y)
            keep = np.abs(h / expected - 1) < 0.25
        self.fit = fit

    def height(self, foot_y: float) -> float | None:
        if self.fit is None:
            return None
        return max(8.0, self.fit[0] + self.fit[1] * foot_y)

    def plausible(self, foot_y: float, height: float) -> bool:
        expected = self.height(foot_y)
        return expected is None or LOW <= height / expected <= HIGH
