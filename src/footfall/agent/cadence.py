"""Which frames the learned detector runs on: every k-th, k from the measured cost.

A channel has one core. Every frame is decoded (and its cheap facts taken: brightness,
motion in zones), but the detector costs far more than a frame lasts at 1080p and 30 fps,
so it runs on every k-th frame and the tracker carries people between detections. The k
is the smallest that keeps the channel within `BUDGET` of the core at the stream's rate:

    per_frame + detection / k <= BUDGET / fps

with `per_frame` (decoding and the rest) and `detection` the CPU time of this thread,
averaged over the recent frames (CPU time, not wall time: another process on the same
machine must not make the agent think its own work got dearer). It is never more than
`MAX_GAP_SECONDS` of video between detections, so a walking person is seen at least
twice a second however slow the core; when even that does not fit, a live stream drops
frames at the capture and a file simply takes longer than it plays.

The first frame is always a detection; k is revised after every detection.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["BUDGET", "MAX_GAP_SECONDS", "Cadence"]

BUDGET = 0.8  # of one core: headroom for the sender, the spool and jitter in cost
MAX_GAP_SECONDS = 0.5
SMOOTHING = 0.1  # weight of the newest measurement in the running averages


class Cadence:
    """`due()` says whether this frame is a detection frame; `spent()` is told each
    frame's and each detection's CPU seconds. `fixed` forces every k-th (1: every frame,
    for the detectors that need every frame, such as motion)."""

    def __init__(
        self,
        fps: float,
        fixed: int | None = None,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.fps = fps
        self.fixed = fixed
        self.clock = clock
        self.every = fixed or 1
        self.max_every = max(1, math.floor(fps * MAX_GAP_SECONDS))
        self.per_frame: float | None = None
        self.detection: float | None = None
        self.since = 0  # frames since the last detection
        self.frames = 0
        self.detections = 0
        self._frame_started: float | None = None

    def due(self) -> bool:
        """Whether to detect on the frame about to be processed (counts the frame)."""
        now = self.clock()
        if self._frame_started is not None:
            # What the previous frame cost beyond its detection: decoding and the rest.
            self._note_frame(now - self._frame_started)
        self._frame_started = now
        self.frames += 1
        due = self.frames == 1 or self.since + 1 >= self.every
        self.since = 0 if due else self.since + 1
        if due:
            self.detections += 1
        return due

    def detected(self, seconds: float) -> None:
        """A detection (and what only detection frames do) cost this much CPU."""
        if self.detections > 1:  # the first run also sets the network up: not typical
            self.detection = _average(self.detection, seconds)
        if self._frame_started is not None:
            self._frame_started += seconds  # not part of the frame's own cost
        if self.fixed is None:
            self.every = self.choose()

    def _note_frame(self, seconds: float) -> None:
        self.per_frame = _average(self.per_frame, max(0.0, seconds))

    def choose(self) -> int:
        """The smallest k within the budget (or the largest allowed)."""
        if self.detection is None:
            return self.every
        spare = BUDGET / self.fps - (self.per_frame or 0.0)
        if spare <= 0:
            return self.max_every
        return max(1, min(self.max_every, math.ceil(self.detection / spare)))


def _average(old: float | None, new: float) -> float:
    return new if old is None else (1 - SMOOTHING) * old + SMOOTHING * new
