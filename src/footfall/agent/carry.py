"""The tracked objects on the frames between two detections.

The learned detector runs on every k-th frame (agent/cadence.py); the rules need a row
for every frame, so that a crossing is timed by the frame it happened in. The frames in
between are held back until the next detection (at most half a second), and each object
tracked at both detections is placed on them by moving its box linearly from one to the
other, in proportion to the frames' times. An object seen only at the later detection
(it is new) has no rows before it; one seen only at the earlier (not found this time) has
none after it: the rules treat that as an object unseen for a moment, as they do when a
tracker misses it.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import supervision as sv

__all__ = ["between"]


def between(
    before: sv.Detections, after: sv.Detections, t0_ms: int, t1_ms: int, t_ms: int
) -> sv.Detections:
    """The objects tracked at both `before` (time t0) and `after` (time t1), at time t."""
    if not len(before) or not len(after) or before.tracker_id is None or t1_ms <= t0_ms:
        return sv.Detections.empty()
    if after.tracker_id is None:
        return sv.Detections.empty()
    earlier = {int(obj): i for i, obj in enumerate(before.tracker_id)}
    rows = [i for i, obj in enumerate(after.tracker_id) if int(obj) in earlier]
    if not rows:
        return sv.Detections.empty()
    picked = cast(sv.Detections, after[np.array(rows)])
    start = before.xyxy[[earlier[int(after.tracker_id[i])] for i in rows]]
    weight = (t_ms - t0_ms) / (t1_ms - t0_ms)
    picked.xyxy = (start + (picked.xyxy - start) * weight).astype(np.float32)
    return picked
