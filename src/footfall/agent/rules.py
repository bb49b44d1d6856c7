"""Line, zone and scene rules over tracked objects: the events of SPEC §2.

Flicker never counts twice: a line crossing needs the anchor (bottom centre of the box)
on the far side for `crossing_frames` frames (supervision's LineZone), and a zone join or
leave needs the anchor inside (outside) for as many frames. Forward on a line A->B is the
sign of cross(B-A, P-A) going from positive to negative (left to right for a line drawn
downwards); only crossings of the segment itself count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from footfall.agent.config import TriggerConfig
from footfall.agent.detect import CHANGED, CLASSES, DARK, FrameFacts

__all__ = ["Emitted", "LineRule", "SceneRule", "ZoneRule"]

ANCHOR = [sv.Position.BOTTOM_CENTER]


@dataclass(frozen=True)
class Emitted:
    event_type: str
    trigger_id: str
    object_id: int = -1
    class_id: int = 0

    @property
    def origin(self) -> tuple[str, str]:
        return (
            CLASSES.get(self.class_id, ("Unknown", "")) if self.object_id >= 0 else ("Unknown", "")
        )


def _ids(detections: sv.Detections) -> list[int]:
    return [] if detections.tracker_id is None else [int(t) for t in detections.tracker_id]


def _classes(detections: sv.Detections) -> list[int]:
    if detections.class_id is None:
        return [0] * len(detections)
    return [int(c) for c in detections.class_id]


class LineRule:
    def __init__(self, trigger: TriggerConfig, frames: int) -> None:
        assert trigger.line is not None
        (ax, ay), (bx, by) = trigger.line
        self.trigger = trigger
        self.zone = sv.LineZone(
            start=sv.Point(ax, ay),
            end=sv.Point(bx, by),
            triggering_anchors=ANCHOR,
            minimum_crossing_threshold=frames,
        )
        self.last_ms: float = float("-inf")

    def update(self, tracked: sv.Detections, t_ms: int, _facts: FrameFacts) -> list[Emitted]:
        if len(tracked) == 0:
            self.zone.trigger(tracked)
            return []
        # supervision's "in" is a move from the positive side of cross(B-A, P-A) to the
        # negative one: the specification's forward.
        forward, backward = self.zone.trigger(tracked)
        wanted = self.trigger.direction
        out: list[Emitted] = []
        for i, (obj, cls) in enumerate(zip(_ids(tracked), _classes(tracked), strict=True)):
            hit = (forward[i] and wanted in ("forward", "both")) or (
                backward[i] and wanted in ("backward", "both")
            )
            if not hit:
                continue
            out.append(Emitted("TripwireCrossed", self.trigger.id, obj, cls))
            if t_ms - self.last_ms <= 1000:
                out.append(Emitted("Tailgating", self.trigger.id, obj, cls))
            self.last_ms = t_ms
        return out


@dataclass
class _Presence:
    inside: bool = False
    since_ms: int = 0
    streak: int = 0  # consecutive frames contradicting `inside`
    loitered: bool = False
    missing: int = 0
    class_id: int = 0


class ZoneRule:
    def __init__(
        self, trigger: TriggerConfig, frames: int, shape: tuple[int, int], scale: float
    ) -> None:
        assert trigger.polygon is not None
        self.trigger = trigger
        self.frames = frames
        self.polygon = np.array(trigger.polygon, dtype=np.int64)
        self.zone = sv.PolygonZone(self.polygon, triggering_anchors=ANCHOR)
        self.objects: dict[int, _Presence] = {}
        self.crowd_since: int | None = None
        self.crowd_on = False
        self.motion_on = False
        self.quiet = 0
        height, width = shape
        mask = np.zeros((height, width), dtype=np.uint8)
        cv2.fillPoly(mask, [(self.polygon * scale).astype(np.int32)], 255)
        self.area_mask: npt.NDArray[np.bool_] = mask > 0
        self.area = max(1, int(self.area_mask.sum()))

    def update(self, tracked: sv.Detections, t_ms: int, facts: FrameFacts) -> list[Emitted]:
        out: list[Emitted] = []
        inside_now = self.zone.trigger(tracked) if len(tracked) else np.zeros(0, dtype=bool)
        present = set()
        for i, (obj, cls) in enumerate(zip(_ids(tracked), _classes(tracked), strict=True)):
            present.add(obj)
            state = self.objects.setdefault(obj, _Presence())
            state.missing = 0
            state.class_id = cls
            self._observe(obj, state, bool(inside_now[i]), t_ms, out)
        for obj, state in list(self.objects.items()):
            if obj in present:
                continue
            state.missing += 1
            if state.inside:
                self._observe(obj, state, False, t_ms, out)
            if not state.inside and state.missing > self.frames:
                del self.objects[obj]
        count = sum(1 for s in self.objects.values() if s.inside)
        self._crowd(count, t_ms, out)
        self._motion(facts, out)
        return out

    def _observe(
        self, obj: int, state: _Presence, inside: bool, t_ms: int, out: list[Emitted]
    ) -> None:
        state.streak = state.streak + 1 if inside != state.inside else 0
        if state.streak >= self.frames:
            state.inside, state.streak = inside, 0
            kind = "RegionJoin" if inside else "RegionLeave"
            out.append(Emitted(kind, self.trigger.id, obj, state.class_id))
            state.since_ms, state.loitered = t_ms, False
        loiter = self.trigger.loitering_seconds
        if (
            state.inside
            and loiter is not None
            and not state.loitered
            and (t_ms - state.since_ms >= loiter * 1000)
        ):
            state.loitered = True
            out.append(Emitted("Loitering", self.trigger.id, obj, state.class_id))

    def _crowd(self, count: int, t_ms: int, out: list[Emitted]) -> None:
        needed = self.trigger.crowd_count
        if needed is None:
            return
        if count >= needed:
            self.crowd_since = t_ms if self.crowd_since is None else self.crowd_since
            if not self.crowd_on and t_ms - self.crowd_since >= self.trigger.crowd_seconds * 1000:
                self.crowd_on = True
                out.append(Emitted("CrowdOn", self.trigger.id))
        else:
            self.crowd_since = None
            if self.crowd_on:
                self.crowd_on = False
                out.append(Emitted("CrowdOff", self.trigger.id))

    def _motion(self, facts: FrameFacts, out: list[Emitted]) -> None:
        moving = np.count_nonzero(facts.foreground[self.area_mask]) / self.area > 0.01
        if moving:
            self.quiet = 0
            if not self.motion_on:
                self.motion_on = True
                out.append(Emitted("MotionInRegionOn", self.trigger.id))
        elif self.motion_on:
            self.quiet += 1
            if self.quiet >= 2 * self.frames:
                self.motion_on = False
                out.append(Emitted("MotionInRegionOff", self.trigger.id))


@dataclass
class SceneRule:
    trigger: TriggerConfig
    lost_frames: int
    seen: dict[int, tuple[int, int]] = field(default_factory=dict)  # obj -> (missing, class)
    bad_frames: int = 0
    good_frames: int = 0
    sabotaged: bool = False

    def update(self, tracked: sv.Detections, _t_ms: int, facts: FrameFacts) -> list[Emitted]:
        out: list[Emitted] = []
        present = dict(zip(_ids(tracked), _classes(tracked), strict=True))
        for obj, cls in present.items():
            if obj not in self.seen:
                out.append(Emitted("ObjectAppear", self.trigger.id, obj, cls))
            self.seen[obj] = (0, cls)
        for obj, (missing, cls) in list(self.seen.items()):
            if obj in present:
                continue
            if missing + 1 > self.lost_frames:
                del self.seen[obj]
                out.append(Emitted("ObjectDisappear", self.trigger.id, obj, cls))
            else:
                self.seen[obj] = (missing + 1, cls)
        # Sabotage: the view goes dark (covered, blacked out) or changes almost entirely
        # (moved) for half a second; raised once, re-armed after two good seconds.
        bad = facts.brightness < DARK or facts.changed > CHANGED
        self.bad_frames = self.bad_frames + 1 if bad else 0
        self.good_frames = 0 if bad else self.good_frames + 1
        if not self.sabotaged and self.bad_frames >= max(2, self.lost_frames // 2):
            self.sabotaged = True
            out.append(Emitted("Sabotage", self.trigger.id))
        if self.sabotaged and self.good_frames >= 2 * self.lost_frames:
            self.sabotaged = False
        return out
