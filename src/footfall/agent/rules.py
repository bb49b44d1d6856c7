"""Line, zone and scene rules over tracked objects: the events of docs/api.md.

Flicker never counts twice: a line crossing needs the anchor (bottom centre of the box)
on the far side for `crossing_frames` rows of its track, and a zone join or leave needs the
anchor inside (outside) for as many. Forward on a line A->B is the sign of cross(B-A, P-A)
going from positive to negative (left to right for a line drawn downwards); only crossings
of the segment itself count. These are the rules of the ground-truth counter the agent is
measured with (`footfall agent-eval`), so a perfect tracker would count exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from footfall.agent.config import TriggerConfig
from footfall.agent.detect import CHANGED, CLASSES, DARK, FrameFacts

__all__ = ["PRESENCE_REFRESH_MS", "Emitted", "LineRule", "SceneRule", "ZoneRule"]

# An object still inside a zone sends a Loitering at least this often. The server closes
# a stay with no leave 4 h after the object's last sign of presence and sources promise
# one at least every hour; rows come only with frames (a stream may stall, a track may
# go unseen for a moment), so the agent sends it five minutes early.
PRESENCE_REFRESH_MS = 55 * 60_000


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


@dataclass
class _Side:
    committed: int  # +1 or -1: the sign of cross(B-A, P-A) the track is counted on
    last: tuple[float, float]  # the anchor at the track's previous row
    seen_ms: int
    candidate: int = 0  # the other side, while the anchor has not stayed there long enough
    rows: int = 0  # rows on the candidate side so far
    through: bool = False  # the step onto the candidate side went through the segment


Point = tuple[float, float]


def _side(a: Point, b: Point, p: Point) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _through(a: Point, b: Point, p: Point, q: Point) -> bool:
    """Whether the step p -> q (p, q on opposite sides of the line) meets the segment AB."""
    da, db = _side(p, q, a), _side(p, q, b)
    return (da >= 0 >= db) or (da <= 0 <= db)


def _anchors(tracked: sv.Detections) -> list[tuple[float, float]]:
    return [(float((x1 + x2) / 2), float(y2)) for x1, _, x2, y2 in tracked.xyxy]


class LineRule:
    """A crossing is a change of side by the anchor that (1) steps through the segment
    and (2) stays on the new side for `frames` rows of the track (the row that got there
    included); a change that reverts sooner is jitter. A change round the end of the
    segment moves the track's side without counting. A new track starts on its side:
    it has crossed nothing. Rows are the frames in which the tracker saw the object, so
    a track that is briefly lost and found again keeps its side."""

    def __init__(self, trigger: TriggerConfig, frames: int) -> None:
        assert trigger.line is not None
        self.trigger = trigger
        self.a, self.b = trigger.line
        self.frames = frames
        self.tracks: dict[int, _Side] = {}
        self.last_ms: float = float("-inf")

    def update(self, tracked: sv.Detections, t_ms: int, _facts: FrameFacts) -> list[Emitted]:
        out: list[Emitted] = []
        wanted = self.trigger.direction
        rows = zip(_ids(tracked), _classes(tracked), _anchors(tracked), strict=True)
        for obj, cls, anchor in rows:
            direction = self._observe(obj, anchor, t_ms)
            if direction is None or wanted not in (direction, "both"):
                continue
            out.append(Emitted("TripwireCrossed", self.trigger.id, obj, cls))
            if t_ms - self.last_ms <= 1000:
                out.append(Emitted("Tailgating", self.trigger.id, obj, cls))
            self.last_ms = t_ms
        if len(self.tracks) > 1000:  # forget tracks gone for a minute
            for obj in [o for o, s in self.tracks.items() if t_ms - s.seen_ms > 60_000]:
                del self.tracks[obj]
        return out

    def _observe(self, obj: int, anchor: tuple[float, float], t_ms: int) -> str | None:
        value = _side(self.a, self.b, anchor)
        if value == 0:
            return None  # on the line: no side (as in the ground truth's rule)
        side = 1 if value > 0 else -1
        state = self.tracks.get(obj)
        if state is None:
            self.tracks[obj] = _Side(side, anchor, t_ms)
            return None
        previous, state.last, state.seen_ms = state.last, anchor, t_ms
        if side == state.committed:
            state.candidate, state.rows = 0, 0  # back before it lasted: jitter
            return None
        if state.candidate != side:
            state.candidate, state.rows = side, 0
            state.through = _through(self.a, self.b, previous, anchor)
        state.rows += 1
        if state.rows < self.frames:
            return None
        # + to - is forward: left to right for a line drawn downwards.
        direction = "forward" if state.committed > 0 else "backward"
        state.committed, state.candidate, state.rows = side, 0, 0
        return direction if state.through else None


@dataclass
class _Presence:
    inside: bool
    seen_ms: int
    since_ms: int
    joined: bool = False  # its RegionJoin was sent (so its RegionLeave will be)
    streak: int = 0  # consecutive rows contradicting `inside`
    loitered: bool = False
    class_id: int = 0
    sign_ms: int = 0  # its last sign of presence sent: the RegionJoin or a Loitering


class ZoneRule:
    """Joins and leaves of the anchor, each once it has lasted `frames` rows of the track.
    A track first seen inside is inside without a join: it is a person who was there
    already, or one found again after an occlusion, and counting it would count someone
    twice. A track the tracker has lost stays inside until the tracker gives it up
    (`lost_ms`), so a short gap in detection is not a leave and a join."""

    def __init__(
        self,
        trigger: TriggerConfig,
        frames: int,
        shape: tuple[int, int],
        scale: float,
        lost_ms: int = 1500,
    ) -> None:
        assert trigger.polygon is not None
        self.trigger = trigger
        self.frames = frames
        self.lost_ms = lost_ms
        self.contour = np.array(trigger.polygon, dtype=np.float32)
        self.objects: dict[int, _Presence] = {}
        self.crowd_since: int | None = None
        self.crowd_on = False
        self.motion_on = False
        self.quiet = 0
        height, width = shape
        mask = np.zeros((height, width), dtype=np.uint8)
        cv2.fillPoly(mask, [(np.array(trigger.polygon) * scale).astype(np.int32)], 255)
        self.area_mask: npt.NDArray[np.bool_] = mask > 0
        self.area = max(1, int(self.area_mask.sum()))

    def inside(self, anchor: tuple[float, float]) -> bool:
        return cv2.pointPolygonTest(self.contour, anchor, False) > 0

    def update(self, tracked: sv.Detections, t_ms: int, facts: FrameFacts) -> list[Emitted]:
        out: list[Emitted] = []
        rows = zip(_ids(tracked), _classes(tracked), _anchors(tracked), strict=True)
        for obj, cls, anchor in rows:
            inside = self.inside(anchor)
            state = self.objects.get(obj)
            if state is None:
                self.objects[obj] = _Presence(inside, t_ms, t_ms, class_id=cls)
                continue
            state.seen_ms, state.class_id = t_ms, cls
            self._observe(obj, state, inside, t_ms, out)
        for obj, state in list(self.objects.items()):
            if t_ms - state.seen_ms > self.lost_ms:
                if state.inside and state.joined:
                    out.append(Emitted("RegionLeave", self.trigger.id, obj, state.class_id))
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
            if inside or state.joined:
                kind = "RegionJoin" if inside else "RegionLeave"
                out.append(Emitted(kind, self.trigger.id, obj, state.class_id))
            state.joined = inside
            state.since_ms, state.sign_ms, state.loitered = t_ms, t_ms, False
        if not state.inside:
            return
        loiter = self.trigger.loitering_seconds
        configured = (
            loiter is not None and not state.loitered and t_ms - state.since_ms >= loiter * 1000
        )
        # The server closes a stay 4 h after its last sign of presence (docs/agent.md): an
        # object still inside says so well within every hour, whatever the configuration.
        refresh = state.joined and t_ms - state.sign_ms >= PRESENCE_REFRESH_MS
        if configured or refresh:
            state.loitered = state.loitered or configured
            state.sign_ms = t_ms
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
    lost_ms: int  # an object unseen this long has disappeared (the tracker gave it up)
    fps: float
    seen: dict[int, tuple[int, int]] = field(default_factory=dict)  # obj -> (seen ms, class)
    bad_frames: int = 0
    good_frames: int = 0
    sabotaged: bool = False

    def update(self, tracked: sv.Detections, t_ms: int, facts: FrameFacts) -> list[Emitted]:
        out: list[Emitted] = []
        present = dict(zip(_ids(tracked), _classes(tracked), strict=True))
        for obj, cls in present.items():
            if obj not in self.seen:
                out.append(Emitted("ObjectAppear", self.trigger.id, obj, cls))
            self.seen[obj] = (t_ms, cls)
        for obj, (seen_ms, cls) in list(self.seen.items()):
            if obj not in present and t_ms - seen_ms > self.lost_ms:
                del self.seen[obj]
                out.append(Emitted("ObjectDisappear", self.trigger.id, obj, cls))
        # Sabotage: the view goes dark (covered, blacked out) or changes almost entirely
        # (moved) for half a second; raised once, re-armed after two good seconds.
        bad = facts.brightness < DARK or facts.changed > CHANGED
        self.bad_frames = self.bad_frames + 1 if bad else 0
        self.good_frames = 0 if bad else self.good_frames + 1
        if not self.sabotaged and self.bad_frames >= max(2, int(self.fps) // 2):
            self.sabotaged = True
            out.append(Emitted("Sabotage", self.trigger.id))
        if self.sabotaged and self.good_frames >= 2 * int(self.fps):
            self.sabotaged = False
        return out
