"""One channel's analytics: frame -> detections -> tracks -> rule events, with ids.

The tracker is ByteTrack (from `trackers`): a track is confirmed after 3 consecutive
frames (unconfirmed ones are not objects and fire nothing) and is kept for 1.5 s without
a detection, its box moving on at its last speed, so a person behind a post or another
person stays one track. The detector is told where every track is expected, so it looks
for people there even when they stand still (no motion) or are half hidden. An object's
class is the one most often detected for its track; a face found once makes it a Face.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from typing import Any, cast

import numpy as np
import supervision as sv
import trackers

from footfall.agent.config import ChannelConfig
from footfall.agent.detect import FACE, Detector, Frame, FrameFacts
from footfall.agent.rules import Emitted, LineRule, SceneRule, ZoneRule
from footfall.domain.times import format_local
from footfall.uplink.spool import record_id

__all__ = ["LOST_SECONDS", "ChannelPipeline"]

Rule = LineRule | ZoneRule | SceneRule
LOST_SECONDS = 1.5  # how long a track outlives its last detection


class ChannelPipeline:
    def __init__(
        self, channel: ChannelConfig, index: int, fps: float, frame_shape: tuple[int, int]
    ) -> None:
        self.channel = channel
        self.index = index
        self.detector = Detector(channel.min_area, fps, channel.detector, channel.faces)
        self.tracker = trackers.ByteTrackTracker(
            frame_rate=fps,
            lost_track_buffer=int(LOST_SECONDS * 30),  # in frames at 30 fps, by its API
            minimum_consecutive_frames=3,
            track_activation_threshold=0.6,
            high_conf_det_threshold=0.65,
            minimum_iou_threshold=0.1,
        )
        self.kinds: dict[int, Counter[int]] = {}
        height, width = frame_shape
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

    def track(self, frame: Frame) -> tuple[sv.Detections, FrameFacts]:
        """The confirmed tracks in this frame (with their classes) and the frame's facts."""
        boxes = [t.get_state_bbox() for t in self.tracker.tracks]
        expected = [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in boxes]
        facts = self.detector(frame, expected)
        tracked = self.tracker.update(facts.detections)
        if len(tracked) and tracked.tracker_id is not None:
            # Unconfirmed tracks carry a negative id: they are not objects yet.
            tracked = cast(sv.Detections, tracked[np.asarray(tracked.tracker_id) >= 0])
        else:
            tracked = sv.Detections.empty()
        if len(tracked) and tracked.tracker_id is not None and tracked.class_id is not None:
            pairs = zip(tracked.tracker_id, tracked.class_id, strict=True)
            tracked.class_id = np.array([self._kind(int(t), int(c)) for t, c in pairs], dtype=int)
        return tracked, facts

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
        tracked, facts = self.track(frame)
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
