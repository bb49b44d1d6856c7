"""One channel's analytics: frame -> detections -> tracks -> rule events, with ids."""

from __future__ import annotations

from datetime import UTC
from typing import Any, cast

import numpy as np
import supervision as sv
import trackers

from footfall.agent.config import ChannelConfig
from footfall.agent.detect import Detector, Frame
from footfall.agent.rules import Emitted, LineRule, SceneRule, ZoneRule
from footfall.agent.spool import record_id
from footfall.domain.times import format_local

__all__ = ["ChannelPipeline"]

Rule = LineRule | ZoneRule | SceneRule


class ChannelPipeline:
    def __init__(
        self, channel: ChannelConfig, index: int, fps: float, frame_shape: tuple[int, int]
    ) -> None:
        self.channel = channel
        self.index = index
        self.detector = Detector(channel.min_area, fps)
        # ByteTrack from `trackers`: a track is confirmed after 3 frames and survives a
        # second of missed detections (an object passing behind another).
        self.tracker = trackers.ByteTrackTracker(
            frame_rate=fps,
            lost_track_buffer=int(fps),
            minimum_consecutive_frames=3,
            track_activation_threshold=0.5,
            high_conf_det_threshold=0.5,
        )
        height, width = frame_shape
        small = (int(height * self.detector.scale), int(width * self.detector.scale))
        self.rules: list[Rule] = []
        for trigger in channel.triggers:
            if trigger.type == "Line":
                self.rules.append(LineRule(trigger, channel.crossing_frames))
            elif trigger.type == "Zone":
                self.rules.append(
                    ZoneRule(trigger, channel.crossing_frames, small, self.detector.scale)
                )
            else:
                self.rules.append(SceneRule(trigger, int(fps)))

    def process(self, frame: Frame, t_ms: int) -> list[dict[str, Any]]:
        facts = self.detector(frame)
        tracked = self.tracker.update(facts.detections)
        if len(tracked) and tracked.tracker_id is not None:
            # Unconfirmed tracks carry a negative id: they are not objects yet.
            tracked = cast(sv.Detections, tracked[np.asarray(tracked.tracker_id) >= 0])
        else:
            tracked = sv.Detections.empty()
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
