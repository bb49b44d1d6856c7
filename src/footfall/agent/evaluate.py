"""The agent measured on real footage against its ground truth (`footfall agent-eval`).

The footage is research data kept outside the repository (`../shared/data/real` from the
checkout, or `FOOTFALL_REAL_DATA`): PETS 2009 S2.L1 and two MOTChallenge clips, each with
per-frame boxes and identities of every annotated person, and `truth.py`, which turns
those into the exact counts an agent should report for a line or zone, by the agent's own
rules (anchor at the bottom centre, crossings of the segment that last 3 rows, joins that
last 3 rows, a track first seen inside is not a join). The agent's pipeline runs on the
video exactly as in `footfall agent` (same detector, tracker and rules, one core), and
each line direction and zone is printed beside the truth, with frames per second.

The lines and zones are those documented in docs/agent.md: lines an operator would draw
across where people walk, away from the frame's borders (not every passer-by at the
borders is annotated).
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2

from footfall.agent.config import ChannelConfig, DetectorConfig, TriggerConfig
from footfall.agent.pipeline import ChannelPipeline

__all__ = [
    "SEQUENCES",
    "Count",
    "Evaluation",
    "Sequence",
    "data_dir",
    "evaluate",
    "parse_line",
    "parse_zone",
    "render",
    "with_geometry",
]

Line = tuple[int, int, int, int]
Polygon = tuple[tuple[int, int], ...]
ENV = "FOOTFALL_REAL_DATA"


@dataclass(frozen=True)
class Sequence:
    name: str
    video: str  # relative to the data directory
    gt: str
    fps: float  # the true rate (PETS 2009's file declares 10; it was recorded at 7)
    lines: dict[str, Line]
    zones: dict[str, Polygon]


SEQUENCES: dict[str, Sequence] = {
    s.name: s
    for s in (
        Sequence(
            "PETS09-S2L1",
            "vtest.avi",
            "PETS09-S2L1/gt/gt.txt",
            7.0,
            # Two lines across the plaza's walkway, drawn downwards (forward = left to
            # right), either side of the lamp post, and the plaza's middle as a zone.
            lines={"west": (300, 180, 300, 400), "east": (560, 170, 560, 420)},
            zones={"plaza": ((360, 215), (560, 205), (600, 330), (380, 340))},
        ),
        Sequence(
            "TUD-Stadtmitte",
            "TUD-Stadtmitte/TUD-Stadtmitte.mp4",
            "TUD-Stadtmitte/gt/gt.txt",
            25.0,
            lines={"centre": (320, 180, 320, 360)},
            zones={"front": ((200, 230), (450, 230), (450, 330), (200, 330))},
        ),
        Sequence(
            "TUD-Campus",
            "TUD-Campus/TUD-Campus.mp4",
            "TUD-Campus/gt/gt.txt",
            25.0,
            lines={"centre": (320, 280, 320, 480)},
            zones={"front": ((250, 330), (450, 330), (450, 480), (250, 480))},
        ),
    )
}


def data_dir(explicit: Path | None = None) -> Path | None:
    """Where the real footage is: the argument, $FOOTFALL_REAL_DATA, or ../shared/data/real
    beside the checkout (or the working directory); None when it is nowhere."""
    candidates = [explicit] if explicit is not None else []
    if os.environ.get(ENV):
        candidates.append(Path(os.environ[ENV]))
    checkout = Path(__file__).resolve().parents[3]
    candidates += [checkout / ".." / "shared" / "data" / "real", Path("../shared/data/real")]
    for candidate in candidates:
        if candidate is not None and (candidate / "truth.py").is_file():
            return candidate.resolve()
    return None


def _numbers(spec: str, what: str) -> tuple[str, list[int]]:
    name, sep, values = spec.partition("=")
    if not sep or not name:
        raise ValueError(f"{what} {spec!r}: expected NAME=x1,y1,x2,y2...")
    try:
        return name, [round(float(v)) for v in values.split(",")]
    except ValueError:
        raise ValueError(f"{what} {spec!r}: coordinates must be numbers") from None


def parse_line(spec: str) -> tuple[str, Line]:
    """`NAME=ax,ay,bx,by` (pixels)."""
    name, v = _numbers(spec, "--line")
    if len(v) != 4:
        raise ValueError(f"--line {spec!r}: expected NAME=ax,ay,bx,by")
    return name, (v[0], v[1], v[2], v[3])


def parse_zone(spec: str) -> tuple[str, Polygon]:
    """`NAME=x1,y1,x2,y2,x3,y3[,...]` (pixels)."""
    name, v = _numbers(spec, "--zone")
    if len(v) < 6 or len(v) % 2:
        raise ValueError(f"--zone {spec!r}: expected NAME=x1,y1,x2,y2,x3,y3[,...]")
    return name, tuple((v[i], v[i + 1]) for i in range(0, len(v), 2))


def with_geometry(sequence: Sequence, lines: list[str], zones: list[str]) -> Sequence:
    """The sequence with these lines and zones instead of its documented ones."""
    return Sequence(
        sequence.name,
        sequence.video,
        sequence.gt,
        sequence.fps,
        dict(parse_line(spec) for spec in lines),
        dict(parse_zone(spec) for spec in zones),
    )


def tolerance(kind: str, truth: int) -> float:
    """How far a count may be from the truth: lines 10 % (2 where the truth is under 20),
    zone joins 15 %."""
    if kind == "joins":
        return 0.15 * truth
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
    seconds: float  # wall time of decoding and the whole pipeline, one core
    counts: list[Count] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else math.inf

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "frames": self.frames,
            "fps": round(self.fps, 2),
            "counts": [
                {
                    "trigger": c.trigger,
                    "kind": c.kind,
                    "agent": c.agent,
                    "truth": c.truth,
                    "ok": c.ok,
                }
                for c in self.counts
            ],
        }


def _truth_module(data: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("footfall_real_truth", data / "truth.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(data / "truth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _triggers(sequence: Sequence) -> tuple[TriggerConfig, ...]:
    triggers: list[TriggerConfig] = []
    for name, (ax, ay, bx, by) in sequence.lines.items():
        for direction in ("forward", "backward"):
            line = ((ax, ay), (bx, by))
            trigger_id = f"{name}.{direction}"
            triggers.append(TriggerConfig(trigger_id, name, "Line", line=line, direction=direction))
    for name, polygon in sequence.zones.items():
        triggers.append(TriggerConfig(f"{name}.joins", name, "Zone", polygon=polygon))
    return tuple(triggers)


def evaluate(
    sequence: Sequence,
    data: Path,
    *,
    frames: int | None = None,
    detector: DetectorConfig | None = None,
) -> Evaluation:
    """Run the agent's pipeline on the sequence's video (its first `frames` frames) and
    count beside the ground truth of the same frames."""
    cv2.setNumThreads(1)  # one core, as the agent runs each channel
    video = data / sequence.video
    channel = ChannelConfig(
        "eval",
        sequence.name,
        str(video),
        _triggers(sequence),
        fps=sequence.fps,
        detector=detector or DetectorConfig(),
    )
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open {video}")
    shape = (
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
    )
    pipeline = ChannelPipeline(channel, 0, sequence.fps, shape)
    counted: Counter[str] = Counter()
    index = 0
    started = time.perf_counter()
    while frames is None or index < frames:
        ok, frame = capture.read()
        if not ok:
            break
        for event in pipeline.process(frame, int(index * 1000 / sequence.fps)):
            if event["event_type"] in ("TripwireCrossed", "RegionJoin"):
                counted[event["trigger_id"]] += 1
        index += 1
    seconds = time.perf_counter() - started
    capture.release()

    truth = _truth_module(data)
    rows, _ = truth.load_gt(str(data / sequence.gt))
    tracks = truth.tracks_from(rows, (1, index))
    result = Evaluation(sequence.name, index, seconds)
    for name, (ax, ay, bx, by) in sequence.lines.items():
        line = truth.count_line(tracks, (ax, ay), (bx, by), channel.crossing_frames)
        for direction in ("forward", "backward"):
            result.counts.append(
                Count(name, direction, counted[f"{name}.{direction}"], int(line[direction]))
            )
    for name, polygon in sequence.zones.items():
        zone = truth.count_zone(tracks, list(polygon), channel.crossing_frames, False)
        result.counts.append(Count(name, "joins", counted[f"{name}.joins"], int(zone["joins"])))
    return result


def render(results: list[Evaluation]) -> str:
    header = ("sequence", "trigger", "count", "agent", "truth", "")
    rows = [
        (r.sequence, c.trigger, c.kind, str(c.agent), str(c.truth), "ok" if c.ok else "OFF")
        for r in results
        for c in r.counts
    ]
    rows += [
        (r.sequence, "(speed)", "fps", f"{r.fps:.1f}", f"{SEQUENCES[r.sequence].fps:g}", "")
        if r.sequence in SEQUENCES
        else (r.sequence, "(speed)", "fps", f"{r.fps:.1f}", "", "")
        for r in results
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)
