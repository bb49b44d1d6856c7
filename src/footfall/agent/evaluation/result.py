"""What an evaluation found: counts beside the truth, the detector's box score, speed.

The tolerances are the agent's targets (docs/agent.md): each line direction within 10 %
of the truth (2 where the truth is under 20), zone joins within 15 % (3 where under 20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from footfall.agent.evaluation.boxes import BoxScore

__all__ = ["Count", "Evaluation", "tolerance"]


def tolerance(kind: str, truth: int) -> float:
    """How far a count may be from the truth."""
    if kind == "joins":
        return 3.0 if truth < 20 else 0.15 * truth
    return 2.0 if truth < 20 else 0.1 * truth


@dataclass(frozen=True)
class Count:
    trigger: str  # the line or zone's name
    kind: str  # forward, backward or joins
    agent: int
    truth: int

    @property
    def ok(self) -> bool:
        return abs(self.agent - self.truth) <= tolerance(self.kind, self.truth) + 1e-9


@dataclass
class Evaluation:
    sequence: str
    frames: int
    seconds: float  # CPU seconds of decoding and the whole pipeline, one core
    rate: float  # the video's true frames per second
    boxes: BoxScore = field(default_factory=BoxScore)
    every: int = 1  # the detector ran on every k-th frame at the end
    counts: list[Count] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames of video handled per CPU second."""
        return self.frames / self.seconds if self.seconds else math.inf

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "frames": self.frames,
            "fps": round(self.fps, 2),
            "video_fps": self.rate,
            "detect_every": self.every,
            "recall": round(self.boxes.recall, 3),
            "precision": round(self.boxes.precision, 3),
            "counts": [
                {"trigger": c.trigger, "kind": c.kind, "agent": c.agent, "truth": c.truth}
                | {"ok": c.ok}
                for c in self.counts
            ],
        }
