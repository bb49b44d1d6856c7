"""The agent's pipeline run on a sequence, counted beside its ground truth.

The pipeline is exactly `footfall agent`'s (same detector, cadence, tracker and rules)
on one core (`cv2.setNumThreads(1)`), every frame decoded and timed by its index at
the sequence's true rate. Its speed is frames of video per CPU second of this process
(CPU time, not wall time: the machine may be shared, and what the agent needs is one
core's work). The truth of each line direction and zone is computed by `truth.py` of
the footage directory (or the sequence's folder or its parent), which applies the
agent's rules to the ground-truth tracks: anchor at the bottom centre, crossings of the
segment that last 3 rows, joins that last 3 rows, a track first seen inside no join.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import cv2
import supervision as sv

from footfall.agent.config import ChannelConfig, DetectorConfig, TriggerConfig
from footfall.agent.evaluation.boxes import BoxScore, load_boxes
from footfall.agent.evaluation.data import Sequence
from footfall.agent.evaluation.result import Count, Evaluation
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.source import open_capture

__all__ = ["evaluate"]


def _truth_module(places: list[Path]) -> ModuleType:
    for place in places:
        path = place / "truth.py"
        spec = importlib.util.spec_from_file_location("footfall_real_truth", path)
        if path.is_file() and spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError(f"no truth.py in {', '.join(str(p) for p in places)}")


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


def _frames(capture: cv2.VideoCapture, limit: int | None) -> Iterator[int]:
    index = 0
    while limit is None or index < limit:
        if not capture.grab():
            return
        yield index
        index += 1


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
    root = sequence.root or data
    video = root / sequence.video
    capture = open_capture(str(video))  # decoded as the agent decodes (agent/source.py)
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open {video}")
    shape = (
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
    )
    channel = ChannelConfig(
        "eval",
        sequence.name,
        str(video),
        _triggers(sequence),
        fps=sequence.fps,
        detector=detector or DetectorConfig(),
    )
    truth_boxes = load_boxes(root / sequence.gt)
    score = BoxScore()
    counted: Counter[str] = Counter()
    frame_of: dict[int, int] = {}
    started = time.process_time()
    pipeline = ChannelPipeline(channel, 0, sequence.fps, shape)

    def scored(t_ms: int, found: sv.Detections) -> None:
        boxes = [
            ((float(b[0]), float(b[1]), float(b[2]), float(b[3])), c)
            for b, c in zip(found.xyxy, _conf(found), strict=True)
        ]
        score.add(truth_boxes, frame_of[t_ms] + 1, boxes)

    pipeline.on_detections = scored
    index = 0
    for index in _frames(capture, frames):
        _, frame = capture.retrieve()
        t_ms = int(index * 1000 / sequence.fps)
        frame_of[t_ms] = index
        for event in pipeline.process(frame, t_ms):
            if event["event_type"] in ("TripwireCrossed", "RegionJoin"):
                counted[event["trigger_id"]] += 1
    cpu = time.process_time() - started
    capture.release()
    decoded = len(frame_of)
    result = Evaluation(sequence.name, decoded, cpu, sequence.fps, score, pipeline.cadence.every)
    _count_truth(result, sequence, [data, root, root.parent], counted, channel, decoded)
    return result


def _conf(found: sv.Detections) -> list[float]:
    return [1.0] * len(found) if found.confidence is None else [float(c) for c in found.confidence]


def _count_truth(
    result: Evaluation,
    sequence: Sequence,
    places: list[Path],
    counted: Counter[str],
    channel: ChannelConfig,
    decoded: int,
) -> None:
    truth = _truth_module(places)
    rows, _ = truth.load_gt(str((sequence.root or places[0]) / sequence.gt))
    tracks = truth.tracks_from(rows, (1, decoded))
    for name, (ax, ay, bx, by) in sequence.lines.items():
        line = truth.count_line(tracks, (ax, ay), (bx, by), channel.crossing_frames)
        for direction in ("forward", "backward"):
            agent = counted[f"{name}.{direction}"]
            result.counts.append(Count(name, direction, agent, int(line[direction])))
    for name, polygon in sequence.zones.items():
        zone = truth.count_zone(tracks, list(polygon), channel.crossing_frames, False)
        result.counts.append(Count(name, "joins", counted[f"{name}.joins"], int(zone["joins"])))
