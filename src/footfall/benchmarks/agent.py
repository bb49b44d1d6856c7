"""The edge agent's pipeline speed (issue 9): frames per second of the whole pipeline
(decode, background subtraction, blobs, ByteTrack, line/zone/scene rules) on 1280x720
video on one core, beside the frames per second of merely decoding the same video.
Target: at least 25 fps (real time)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2

from footfall.agent.config import ChannelConfig, TriggerConfig
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.source import VideoSource
from footfall.agent.synthetic import render, standard_scenario
from footfall.benchmarks.report import Row

__all__ = ["run"]

LINE = ((640, 0), (640, 720))
ZONE = ((100, 200), (500, 200), (500, 560), (100, 560))


def run(quick: bool = False) -> list[Row]:
    cv2.setNumThreads(1)  # one core, as the target says
    with tempfile.TemporaryDirectory() as tmp:
        scenario = standard_scenario(people=8 if quick else 16)
        path = render(scenario, Path(tmp) / "bench.avi")
        channel = ChannelConfig(
            "cam",
            "Camera",
            str(path),
            (
                TriggerConfig("t-in", "In", "Line", line=LINE, direction="forward"),
                TriggerConfig("t-out", "Out", "Line", line=LINE, direction="backward"),
                TriggerConfig(
                    "t-zone",
                    "Zone",
                    "Zone",
                    polygon=ZONE,
                    loitering_seconds=30,
                    crowd_count=5,
                    crowd_seconds=5,
                ),
                TriggerConfig("t-scene", "Scene", "Scene"),
            ),
            start_time_ms=1_764_000_000_000,
        )
        source = VideoSource(channel)
        started = time.perf_counter()
        decoded = sum(1 for _ in source.frames())
        decode_fps = decoded / (time.perf_counter() - started)
        fps, shape = source.probe()
        pipeline = ChannelPipeline(channel, 0, fps, shape)
        started = time.perf_counter()
        processed = 0
        for frame, t_ms in source.frames():
            pipeline.process(frame, t_ms)
            processed += 1
        pipeline_fps = processed / (time.perf_counter() - started)
    return [
        Row(
            name="agent pipeline on 1280x720, one core",
            figure=pipeline_fps,
            unit="fps",
            baseline_name="decoding only",
            baseline=decode_fps,
            target=">= 25 fps",
            ok=pipeline_fps >= 25,
        )
    ]
