"""Synthetic test videos with known ground truth (for tests and the benchmark).

People are upright figures (a "face" is a taller one facing the camera, with a drawn face
the face detector finds), cars wide boxes, on a textured still background; every object
follows a scripted path, so which lines it crosses (and in which direction) and which zones
it enters and leaves is known exactly. Scenarios keep objects apart (separate lanes and
times) except where the test wants them close.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import cv2
import numpy as np
from cv2.typing import MatLike

__all__ = ["Actor", "Scenario", "render", "standard_scenario"]

WIDTH, HEIGHT, FPS = 1280, 720, 25


@dataclass
class Actor:
    kind: str  # "person", "face" (a person facing the camera) or "car"
    path: list[tuple[int, float, float]]  # (frame, x of the bottom centre, y of it)
    colour: tuple[int, int, int] = (40, 40, 200)

    @property
    def size(self) -> tuple[int, int]:
        return {"person": (40, 110), "face": (90, 260)}.get(self.kind, (200, 80))

    def position(self, frame: int) -> tuple[float, float] | None:
        """Bottom centre at a frame, linearly between path points; None when absent."""
        path = self.path
        if frame < path[0][0] or frame > path[-1][0]:
            return None
        for (f0, x0, y0), (f1, x1, y1) in itertools.pairwise(path):
            if f0 <= frame <= f1:
                k = 0.0 if f1 == f0 else (frame - f0) / (f1 - f0)
                return x0 + k * (x1 - x0), y0 + k * (y1 - y0)
        return path[-1][1], path[-1][2]


@dataclass
class Scenario:
    frames: int
    actors: list[Actor] = field(default_factory=list)
    dark: tuple[int, int] | None = None  # frames [a, b) with the lens covered

    def crossings(self, line_x: int, y_range: tuple[int, int]) -> dict[str, int]:
        """Objects whose anchor crosses x = line_x (within y_range) and stays across."""
        counts = {"forward": 0, "backward": 0}
        for actor in self.actors:
            start = actor.position(actor.path[0][0])
            end = actor.position(actor.path[-1][0])
            assert start is not None
            assert end is not None
            if not y_range[0] <= start[1] <= y_range[1]:
                continue
            if start[0] < line_x < end[0]:
                counts["forward"] += 1
            elif end[0] < line_x < start[0]:
                counts["backward"] += 1
        return counts

    def crossing_times(self, line_x: int, y_range: tuple[int, int]) -> list[tuple[int, str]]:
        """(frame, direction) of every lasting crossing of x = line_x, in time order."""
        out: list[tuple[int, str]] = []
        for actor in self.actors:
            first, last = actor.path[0][0], actor.path[-1][0]
            start, end = actor.position(first), actor.position(last)
            assert start is not None
            assert end is not None
            if not y_range[0] <= start[1] <= y_range[1]:
                continue
            if not (start[0] < line_x < end[0] or end[0] < line_x < start[0]):
                continue
            direction = "forward" if start[0] < line_x else "backward"
            for frame in range(first, last + 1):
                where = actor.position(frame)
                assert where is not None
                if (where[0] > line_x) == (direction == "forward"):
                    out.append((frame, direction))
                    break
        return sorted(out)

    def zone_stays(self, polygon: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """(entered, left) frames of every visit of an anchor to the polygon."""
        contour = np.array(polygon, dtype=np.int32)
        stays: list[tuple[int, int]] = []
        for actor in self.actors:
            entered: int | None = None
            for frame in range(actor.path[0][0], actor.path[-1][0] + 1):
                where = actor.position(frame)
                assert where is not None
                now = cv2.pointPolygonTest(contour, (float(where[0]), float(where[1])), False) > 0
                if now and entered is None:
                    entered = frame
                elif not now and entered is not None:
                    stays.append((entered, frame))
                    entered = None
        return sorted(stays)


def _background(seed: int) -> MatLike:
    rng = np.random.default_rng(seed)
    base = np.full((HEIGHT, WIDTH, 3), 150, dtype=np.uint8)
    noise = rng.integers(-12, 12, size=(HEIGHT // 8, WIDTH // 8, 1), dtype=np.int16)
    texture = cv2.resize(noise.astype(np.float32), (WIDTH, HEIGHT)).astype(np.int16)
    floor = np.clip(base.astype(np.int16) + texture[..., None], 0, 255).astype(np.uint8)
    cv2.rectangle(floor, (0, 600), (WIDTH, HEIGHT), (120, 120, 120), -1)
    return cast(MatLike, floor)


def _draw(frame: MatLike, actor: Actor, x: float, y: float) -> None:
    w, h = actor.size
    left, top = int(x - w / 2), int(y - h)
    if actor.kind == "person":
        cv2.rectangle(frame, (left + 4, top + 28), (left + w - 4, int(y)), actor.colour, -1)
        cv2.circle(frame, (int(x), top + 14), 13, (60, 90, 160), -1)
    elif actor.kind == "face":
        cv2.rectangle(frame, (left + 8, top + 62), (left + w - 8, int(y)), actor.colour, -1)
        _face(frame, int(x), top + 30)
    else:
        cv2.rectangle(frame, (left, top + 20), (left + w, int(y) - 12), actor.colour, -1)
        cv2.rectangle(frame, (left + 30, top), (left + w - 40, top + 24), actor.colour, -1)
        for wheel in (left + 35, left + w - 35):
            cv2.circle(frame, (wheel, int(y) - 12), 12, (20, 20, 20), -1)


def _face(frame: MatLike, cx: int, cy: int, r: int = 26) -> None:
    """Skin, hair, eyes and brows, nose and mouth: enough for a Haar face cascade."""
    cv2.ellipse(frame, (cx, cy), (r - 4, r + 2), 0, 0, 360, (170, 190, 220), -1)
    cv2.rectangle(frame, (cx - r, cy - r - 4), (cx + r, cy - r + 8), (30, 30, 40), -1)
    for dx in (-9, 9):
        cv2.ellipse(frame, (cx + dx, cy - 5), (5, 3), 0, 0, 360, (30, 30, 30), -1)
        cv2.line(frame, (cx + dx - 6, cy - 11), (cx + dx + 6, cy - 11), (40, 40, 50), 2)
    cv2.line(frame, (cx, cy - 2), (cx, cy + 8), (140, 160, 190), 2)
    cv2.ellipse(frame, (cx, cy + 15), (8, 3), 0, 0, 360, (60, 60, 120), -1)


def render(scenario: Scenario, path: Path, seed: int = 1) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    background = _background(seed)
    for frame_index in range(scenario.frames):
        frame = background.copy()
        if scenario.dark and scenario.dark[0] <= frame_index < scenario.dark[1]:
            frame[:] = 5
        else:
            for actor in scenario.actors:
                where = actor.position(frame_index)
                if where is not None:
                    _draw(frame, actor, *where)
        writer.write(frame)
    writer.release()
    return path


def _walk(
    start_frame: int, x0: float, x1: float, y: float, speed: float
) -> list[tuple[int, float, float]]:
    frames = max(1, int(abs(x1 - x0) / speed))
    return [(start_frame, x0, y), (start_frame + frames, x1, y)]


def standard_scenario(seed: int = 7, people: int = 16, cars: int = 4) -> Scenario:
    """Crossings both ways over a line at x = 640: people in the upper lane (anchor at
    y = 380), one every 28 frames, alternating directions; then a pair walking close
    together (a tailgate); a person dithering on the line (12 px either side, never
    staying across: no count); then cars in the lower lane (y = 690). Crossings in one
    direction are at least two seconds apart, but for the pair's third of a second."""
    rng = random.Random(seed)
    actors: list[Actor] = []
    frame = 50  # two seconds of empty scene for the background model
    for n in range(people):
        forward = n % 2 == 0
        x0, x1 = (560, 1250) if forward else (1250, 560)
        colour = (rng.randrange(20, 90), rng.randrange(20, 90), rng.randrange(120, 230))
        actors.append(Actor("person", _walk(frame, x0, x1, 380, 10), colour))
        frame += 28
    frame += 40
    actors.append(Actor("person", _walk(frame, 560, 1250, 380, 10), (30, 160, 40)))
    actors.append(Actor("person", _walk(frame + 8, 560, 1250, 380, 10), (160, 40, 40)))
    frame += 100
    dither = [(frame + k, 640 + (12 if k % 2 else -12), 380.0) for k in range(40)]
    actors.append(
        Actor("person", [(frame - 10, 560, 380), *dither, (frame + 50, 560, 380)], (90, 90, 30))
    )
    frame += 60
    for n in range(cars):
        forward = n % 2 == 0
        x0, x1 = (400, 1200) if forward else (1200, 400)
        actors.append(
            Actor("car", _walk(frame, x0, x1, 690, 16), (rng.randrange(100, 200), 40, 40))
        )
        frame += 70
    return Scenario(frames=frame + 60, actors=actors)


def zone_scenario() -> Scenario:
    """Visits to the zone [[100, 200], [500, 200], [500, 560], [100, 560]]: two short ones,
    one of 6 s (past a 4 s loitering limit), and three people inside together for 4 s (a
    crowd of 3 held 2 s), each entering from the left and leaving to the left."""
    actors: list[Actor] = []

    def visit(start: int, y: float, stay: int, colour: tuple[int, int, int]) -> None:
        jitter = [(start + 30 + k, 300 + (3 if k % 2 else 0), y) for k in range(0, stay, 5)]
        actors.append(
            Actor(
                "person",
                [
                    (start, 20, y),
                    (start + 30, 300, y),
                    *jitter,
                    (start + 30 + stay, 300, y),
                    (start + 60 + stay, 20, y),
                ],
                colour,
            )
        )

    visit(50, 300, 25, (30, 30, 200))
    visit(170, 420, 25, (30, 160, 40))
    visit(290, 300, 150, (160, 40, 40))  # 6 s inside
    for k, y in enumerate((250, 400, 550)):
        visit(520 + 4 * k, y, 100, (40 + 40 * k, 40, 160))
    return Scenario(frames=760, actors=actors, dark=(700, 750))
