"""The edge agent's speed on real footage, one core: frames of video handled per CPU
second of the whole pipeline (decoding, motion facts, the detector on the frames the
cadence picks, ByteTrack, line/zone/scene rules), beside merely decoding the same file.

The footage is PETS 2009 S2.L1 (`vtest.avi` of the evaluation data, `$FOOTFALL_REAL_DATA`):
as it is (768x576, played at its true 7 fps), and the same frames scaled to 1920x1080
and written as a 30 fps file, the frame size and rate of a 1080p camera (decoding a
1080p frame and scaling it down for the detector is the cost that changes with the
size). CPU time (`time.thread_time`), not wall time: the machine may be shared. Target,
enforced by `footfall bench --check`: the video handled at least as fast as it plays,
frames per CPU second / the video's fps >= 1 (the row's `pace`; the ratio to decoding is
shown, not judged). `quick`: the first 200 frames. Nothing is measured without the data.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import cv2

from footfall.agent.config import ChannelConfig, TriggerConfig
from footfall.agent.evaluation import data_dir
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.source import VideoSource
from footfall.benchmarks.report import Pace, Ratio, Row

__all__ = ["KEEPS_PACE", "agent_row", "run", "upscaled"]

KEEPS_PACE = Ratio(least=1.0)  # frames handled per CPU second / the video's fps


def upscaled(source: Path, target: Path, size: tuple[int, int], fps: float, frames: int) -> Path:
    """The first `frames` frames of `source`, scaled to `size`, as an MPEG-4 file."""
    capture = cv2.VideoCapture(str(source))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    for _ in range(frames):
        ok, frame = capture.read()
        if not ok:
            break
        writer.write(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC))
    writer.release()
    capture.release()
    return target


def _channel(path: Path, fps: float, width: int, height: int) -> ChannelConfig:
    line = ((width // 2, height // 4), (width // 2, height * 3 // 4))
    zone = (
        (width // 4, height // 3),
        (width * 3 // 4, height // 3),
        (width * 3 // 4, height * 2 // 3),
        (width // 4, height * 2 // 3),
    )
    return ChannelConfig(
        "cam",
        "Camera",
        str(path),
        (
            TriggerConfig("t-in", "In", "Line", line=line, direction="both"),
            TriggerConfig("t-zone", "Zone", "Zone", polygon=zone, loitering_seconds=30),
            TriggerConfig("t-scene", "Scene", "Scene"),
        ),
        start_time_ms=1_764_000_000_000,
        fps=fps,
    )


def measure(path: Path, fps: float, name: str, frames: int | None = None) -> Row:
    capture = cv2.VideoCapture(str(path))
    width, height = (
        int(capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
    )
    capture.release()
    channel = _channel(path, fps, width, height)
    source = VideoSource(channel)
    started = time.thread_time()
    decoded = sum(1 for _ in itertools.islice(source.frames(), frames))
    decode_fps = decoded / max(1e-9, time.thread_time() - started)
    started = time.thread_time()
    pipeline = ChannelPipeline(channel, 0, fps, (height, width))
    processed = 0
    for frame, t_ms in itertools.islice(source.frames(), frames):
        pipeline.process(frame, t_ms)
        processed += 1
    handled = processed / max(1e-9, time.thread_time() - started)
    return agent_row(name, handled, decode_fps, fps, pipeline.cadence.every)


def agent_row(name: str, handled: float, decode_fps: float, fps: float, every: int) -> Row:
    """The row of one clip: `handled` frames per CPU second, judged against the video's
    `fps`, beside decoding alone (`decode_fps`, same run) as its baseline."""
    pace = Pace(f"the video's {fps:g} fps", fps)
    return Row(
        name=f"agent on {name}, one core (every {every}. frame detected)",
        figure=handled,
        unit="fps",
        baseline_name="decoding only",
        baseline=decode_fps,
        target=f">= {fps:g} fps per CPU second (the video's rate)",
        ok=KEEPS_PACE.met(handled / fps),
        check=KEEPS_PACE,
        pace=pace,
    )


def run(quick: bool = False) -> list[Row]:
    data = data_dir()
    if data is None or not (data / "vtest.avi").is_file():
        return []
    cv2.setNumThreads(1)  # one core, as the target says
    pets = data / "vtest.avi"
    frames = 200 if quick else 795
    rows = [measure(pets, 7.0, "PETS09-S2L1 768x576 (7 fps)", frames)]
    with tempfile.TemporaryDirectory() as tmp:
        big = upscaled(pets, Path(tmp) / "pets-1080p.mp4", (1920, 1080), 30.0, frames)
        rows.append(measure(big, 30.0, "PETS09-S2L1 frames at 1920x1080, 30 fps"))
    return rows
