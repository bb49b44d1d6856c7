"""One channel's analytics: frame -> detections -> tracks -> rule events, with ids.

The tracker is ByteTrack (from `trackers`): a track is confirmed after 3 consecutive
frames (unconfirmed ones are not objects and fire nothing) and is kept for 1.5 s without
a detection, its box moving on at its last speed, so a person behind a post or another
person stays one track. The detector is told where every track is expected, so it looks
for people there even when they stand still (no motion) or are half hidden. An object's
class is the one most often detected for its track; a face found once makes it a Face.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC
from typing import Any, cast

import numpy as np
import supervision as sv
import trackers
from trackers.utils.iou import DIoU

from footfall.agent.cadence import Cadence
from footfall.agent.carry import between
from footfall.agent.config import ChannelConfig
from footfall.agent.detect import FACE, Detector, Frame, FrameFacts
from footfall.agent.motion import MotionFacts
from footfall.agent.rules import Emitted, LineRule, SceneRule, ZoneRule
from footfall.domain.times import format_local
from footfall.uplink.spool import record_id

__all__ = ["LOST_SECONDS", "ChannelPipeline"]

Rule = LineRule | ZoneRule | SceneRule
LOST_SECONDS = 1.5  # how long a track outlives its last detection
LEARNED_MATCH = -0.2  # distance-IoU: above it, a box is near enough to continue a track
LEARNED_START = 0.5  # a learned detector's score from which a person may start a track


class ChannelPipeline:
    def __init__(
        self,
        channel: ChannelConfig,
        index: int,
        fps: float,
        frame_shape: tuple[int, int],
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.channel = channel
        self.index = index
        height, width = frame_shape
        self.detector = Detector(channel.min_area, fps, channel.detector, channel.faces, width)
        learned = self.detector.every is None
        self.cadence = Cadence(fps, self.detector.every, clock)
        self.clock = clock
        self.tracker = trackers.ByteTrackTracker(
            frame_rate=fps,
            lost_track_buffer=int(LOST_SECONDS * 30),  # in frames at 30 fps, by its API
            # A learned detector is seen on fewer frames, and its people are sure enough
            # that two sightings confirm one.
            minimum_consecutive_frames=1 if learned else 3,
            track_activation_threshold=LEARNED_START if learned else 0.6,
            high_conf_det_threshold=LEARNED_START if learned else 0.65,
            # A learned detector sees a walker a quarter second apart, often without
            # overlap: distance-IoU still matches boxes that are near, not only overlapping.
            minimum_iou_threshold=LEARNED_MATCH if learned else 0.1,
            iou=DIoU() if learned else None,
        )
        self.kinds: dict[int, Counter[int]] = {}
        self.pending: list[tuple[int, MotionFacts]] = []  # frames since the last detection
        self.last: tuple[int, sv.Detections] | None = None
        # Told each detection frame's time and what the detector found (agent-eval).
        self.on_detections: Callable[[int, sv.Detections], None] | None = None
        small = (int(height * self.detector.scale), int(width * self.detector.scale))
        lost_ms = int(LOST_SECONDS * 1000)
        self.rules: list[Rule] = []
        for trigger in channel.triggers:
            if trigger.type == "Line":
                self.rules.append(LineRule(trigger, channel.crossing_frames))
            elif trigger.type == "Zone":
                self.rules.append(
                    ZoneRule(trigger, channel.crossing_frames, small, self.detector.scale, lost_ms)
                )
            else:
                self.rules.append(SceneRule(trigger, lost_ms, fps))

    def track(self, frame: Frame, motion: MotionFacts, t_ms: int) -> sv.Detections:
        """The confirmed tracks in this frame, with their classes."""
        boxes = [t.get_state_bbox() for t in self.tracker.tracks]
        expected = [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in boxes]
        found = self.detector.find(frame, motion, expected)
        if self.on_detections is not None:
            self.on_detections(t_ms, found)
        tracked = self.tracker.update(found, timestamp=t_ms / 1000)
        if len(tracked) and tracked.tracker_id is not None:
            # Unconfirmed tracks carry a negative id: they are not objects yet.
            tracked = cast(sv.Detections, tracked[np.asarray(tracked.tracker_id) >= 0])
        else:
            tracked = sv.Detections.empty()
        if len(tracked) and tracked.tracker_id is not None and tracked.class_id is not None:
            pairs = zip(tracked.tracker_id, tracked.class_id, strict=True)
            tracked.class_id = np.array([self._kind(int(t), int(c)) for t, c in pairs], dtype=int)
        return tracked

    def _kind(self, obj: int, detected: int) -> int:
        seen = self.kinds.setdefault(obj, Counter())
        seen[detected] += 1
        if len(self.kinds) > 5000:  # track ids only grow: forget the oldest
            for old in sorted(self.kinds)[:1000]:
                del self.kinds[old]
        if seen[FACE]:
            return FACE
        known = [(n, k) for k, n in seen.items() if k != 0]
        return max(known)[1] if known else 0

    def process(self, frame: Frame, t_ms: int) -> list[dict[str, Any]]:
        """The events of this frame, and of the frames held back since the last
        detection (each timed by its own frame)."""
        due = self.cadence.due()
        motion = self.detector.observe(frame)
        self.pending.append((t_ms, motion))
        if not due:
            return []
        started = self.clock()
        tracked = self.track(frame, motion, t_ms)
        self.cadence.detected(self.clock() - started)
        events: list[dict[str, Any]] = []
        for at, facts in self.pending:
            if at == t_ms:
                objects = tracked
            elif self.last is None:
                objects = sv.Detections.empty()
            else:
                objects = between(self.last[1], tracked, self.last[0], t_ms, at)
            events.extend(self._row(objects, at, facts))
        self.pending = []
        self.last = (t_ms, tracked)
        return events

    def _row(self, tracked: sv.Detections, t_ms: int, motion: MotionFacts) -> list[dict[str, Any]]:
        facts = FrameFacts(tracked, motion.foreground, motion.brightness, motion.changed)
        emitted: list[Emitted] = []
        for rule in self.rules:
            emitted.extend(rule.update(tracked, t_ms, facts))
        return [self._event(e, t_ms, k) for k, e in enumerate(emitted)]

    def _event(self, emitted: Emitted, t_ms: int, k: int) -> dict[str, Any]:
        origin, suborigin = emitted.origin
        return {
            "record_id": record_id(t_ms, self.index, k),
            "event_type": emitted.event_type,
            "trigger_id": emitted.trigger_id,
            "channel_id": self.channel.id,
            "object_id": emitted.object_id,
            "origin": origin,
            "suborigin": suborigin,
            "event_time": format_local(t_ms, UTC),
        }
