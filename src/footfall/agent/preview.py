"""`footfall agent --preview OUT.png`: the configured lines (with their counting direction)
and zones drawn on a frame of each source, so the geometry can be checked before running."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from footfall.agent.config import AgentConfig
from footfall.agent.source import first_frame

__all__ = ["write_preview"]


def write_preview(config: AgentConfig, out: Path) -> None:
    panels = []
    for channel in config.channels:
        frame = first_frame(channel).copy()
        for trigger in channel.triggers:
            if trigger.line is not None:
                (ax, ay), (bx, by) = trigger.line
                cv2.line(frame, (ax, ay), (bx, by), (0, 200, 255), 3)
                # Arrows show the counted direction: forward is from the side where
                # cross(B-A, P-A) > 0 to the side where it is < 0.
                mx, my = (ax + bx) // 2, (ay + by) // 2
                nx, ny = (by - ay), -(bx - ax)
                norm = max(1.0, float(np.hypot(nx, ny)))
                dx, dy = int(60 * nx / norm), int(60 * ny / norm)
                if trigger.direction in ("forward", "both"):
                    cv2.arrowedLine(
                        frame,
                        (mx - dx, my - dy),
                        (mx + dx, my + dy),
                        (0, 200, 255),
                        3,
                        tipLength=0.3,
                    )
                if trigger.direction in ("backward", "both"):
                    cv2.arrowedLine(
                        frame,
                        (mx + dx, my + dy),
                        (mx - dx, my - dy),
                        (0, 120, 255),
                        3,
                        tipLength=0.3,
                    )
                cv2.putText(
                    frame,
                    trigger.name,
                    (ax + 8, ay + 24),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.8,
                    (0, 200, 255),
                    2,
                )
            if trigger.polygon is not None:
                points = np.array(trigger.polygon, dtype=np.int32)
                cv2.polylines(frame, [points], True, (80, 220, 80), 3)
                x, y = trigger.polygon[0]
                cv2.putText(
                    frame,
                    trigger.name,
                    (x + 8, y + 24),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.8,
                    (80, 220, 80),
                    2,
                )
        cv2.putText(
            frame,
            f"{channel.name} ({channel.id})",
            (10, 30),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.0,
            (255, 255, 255),
            2,
        )
        panels.append(frame)
    width = max(p.shape[1] for p in panels)
    padded = [
        cv2.copyMakeBorder(p, 0, 0, 0, width - p.shape[1], cv2.BORDER_CONSTANT) for p in panels
    ]
    if not cv2.imwrite(str(out), np.vstack(padded)):
        raise OSError(f"cannot write {out}")
