"""Video sources and the time of each frame.

A file is read once (or looped); its frames are timed at the channel's `fps` when given
(else the rate the file declares) from `start_time` when given, else from the file's
modification time minus its duration (so a recorded file gives the same
times, hence the same record ids, every time it is processed). A stream or camera is timed
by the clock when each frame arrives.

A file or stream is decoded in the thread that reads it (FFmpeg's own decoder threads
off): a channel has one core, and the CPU time its thread measures (the detector's
cadence, agent/cadence.py, and `footfall bench`) must include decoding, which at 1080p
is a good part of a frame's cost.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
from cv2.typing import MatLike

from footfall.agent.config import ChannelConfig

__all__ = ["SourceError", "VideoSource", "first_frame", "open_capture"]


class SourceError(RuntimeError):
    """The source cannot be opened or read."""


def open_capture(source: str | int) -> cv2.VideoCapture:
    """A capture of a file, URL or image pattern decoded in the calling thread (FFmpeg's
    decoder threads off, so the thread's CPU time includes decoding); a camera index is
    opened as it always was."""
    if isinstance(source, str):
        return cv2.VideoCapture(source, cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    return cv2.VideoCapture(source)


@dataclass
class VideoSource:
    channel: ChannelConfig

    @property
    def is_file(self) -> bool:
        source = self.channel.source
        return isinstance(source, str) and "://" not in source

    def _open(self) -> cv2.VideoCapture:
        capture = open_capture(self.channel.source)
        if not capture.isOpened():
            raise SourceError(f"channel {self.channel.id}: cannot open {self.channel.source!r}")
        return capture

    def probe(self) -> tuple[float, tuple[int, int]]:
        """(frames per second, (height, width))."""
        capture = self._open()
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        capture.release()
        if self.channel.fps is not None:
            # The configured rate wins: some files declare a wrong one (PETS 2009's AVI
            # says 10 fps; it was recorded at 7), and every time and duration follows it.
            return self.channel.fps, (height, width)
        return (fps if 1 <= fps <= 240 else 25.0), (height, width)

    def frames(self, stop: object = None) -> Iterator[tuple[MatLike, int]]:
        """(frame, time in epoch ms) until the file ends (or for ever when looping or live)."""
        fps, _ = self.probe()
        if not self.is_file:
            capture = self._open()
            while True:
                ok, frame = capture.read()
                if not ok:
                    capture.release()
                    return
                yield frame, int(time.time() * 1000)
        loop = 0
        while True:
            capture = self._open()
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            duration_ms = int(count * 1000 / fps)
            start = self.channel.start_time_ms
            if start is None:
                path = str(self.channel.source)
                start = int(os.path.getmtime(path) * 1000) - duration_ms
            start += loop * duration_ms
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                yield frame, start + int(index * 1000 / fps)
                index += 1
            capture.release()
            if not self.channel.loop:
                return
            loop += 1


def first_frame(channel: ChannelConfig) -> MatLike:
    capture = VideoSource(channel)._open()
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SourceError(f"channel {channel.id}: no frame could be read")
    return frame
