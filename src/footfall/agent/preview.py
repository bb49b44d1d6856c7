"""`footfall agent --preview OUT.png`: the configured lines (with their counting direction)
and zones drawn on a frame of each source, so the geometry can be checked before running.
Drawing only: the configuration and the sources are read, never changed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from cv2.typing import MatLike

from footfall.agent.config import AgentConfig, ChannelConfig
from footfall.agent.source import first_frame

__all__ = ["write_preview"]

Colour = tuple[int, int, int]
Point = tuple[int, int]
LINE = (0, 200, 255)  # a line and its forward arrow (BGR)
BACKWARD = (0, 120, 255)  # a line's backward arrow
ZONE = (80, 220, 80)
TITLE = (255, 255, 255)
ARROW_PX = 60  # half an arrow's length


def write_preview(config: AgentConfig, out: Path) -> None:
    """One panel per channel, stacked top to bottom, written to `out` as an image."""
    panels = [_panel(channel) for channel in config.channels]
    if not cv2.imwrite(str(out), _stacked(panels)):
        raise OSError(f"cannot write {out}")


def _panel(channel: ChannelConfig) -> MatLike:
    """The channel's first frame with its triggers drawn and its name as a title."""
    frame = first_frame(channel).copy()
    for trigger in channel.triggers:
        if trigger.line is not None:
            _draw_line(frame, trigger.line, trigger.direction, trigger.name)
        if trigger.polygon is not None:
            _draw_zone(frame, trigger.polygon, trigger.name)
    _label(frame, f"{channel.name} ({channel.id})", (10, 30), TITLE, 1.0)
    return frame


def _draw_line(frame: MatLike, line: tuple[Point, Point], direction: str, name: str) -> None:
    """The line, an arrow for each counted direction, and the trigger's name."""
    (ax, ay), (bx, by) = line
    cv2.line(frame, (ax, ay), (bx, by), LINE, 3)
    # Arrows show the counted direction: forward is from the side where
    # cross(B-A, P-A) > 0 to the side where it is < 0.
    mx, my = (ax + bx) // 2, (ay + by) // 2
    nx, ny = (by - ay), -(bx - ax)
    norm = max(1.0, float(np.hypot(nx, ny)))
    dx, dy = int(ARROW_PX * nx / norm), int(ARROW_PX * ny / norm)
    if direction in ("forward", "both"):
        _arrow(frame, (mx - dx, my - dy), (mx + dx, my + dy), LINE)
    if direction in ("backward", "both"):
        _arrow(frame, (mx + dx, my + dy), (mx - dx, my - dy), BACKWARD)
    _label(frame, name, (ax + 8, ay + 24), LINE, 0.8)


def _draw_zone(frame: MatLike, polygon: tuple[Point, ...], name: str) -> None:
    """The zone's outline and the trigger's name by its first corner."""
    points = np.array(polygon, dtype=np.int32)
    cv2.polylines(frame, [points], True, ZONE, 3)
    x, y = polygon[0]
    _label(frame, name, (x + 8, y + 24), ZONE, 0.8)


def _arrow(frame: MatLike, tail: Point, head: Point, colour: Colour) -> None:
    cv2.arrowedLine(frame, tail, head, colour, 3, tipLength=0.3)


def _label(frame: MatLike, text: str, at: Point, colour: Colour, size: float) -> None:
    cv2.putText(frame, text, at, cv2.FONT_HERSHEY_SIMPLEX, size, colour, 2)


def _stacked(panels: list[MatLike]) -> MatLike:
    """The panels one above the other, each padded on the right to the widest."""
    width = max(p.shape[1] for p in panels)
    padded = [
        cv2.copyMakeBorder(p, 0, 0, 0, width - p.shape[1], cv2.BORDER_CONSTANT) for p in panels
    ]
    return np.vstack(padded)
