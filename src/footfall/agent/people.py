"""People in a frame: OpenCV's HOG people detector (Dalal and Triggs, bundled in the
OpenCV wheel: nothing is downloaded), run only where someone can be.

Searching a whole frame for people of every size costs about half a second on one core;
searching only around the moving blobs and the tracked objects' predicted boxes costs a
few milliseconds each. Each such candidate is expanded (people are taller than the part
of them that moved), overlapping ones are merged into one region, and the region is
scaled so that a person of the candidates' height fills the detector's 64x128 window
(96 px of person in it); the detector's pyramid then looks for people up to the region's
size. The first frame is searched whole, for the people already standing there.

The detector's window has a margin around the person; the box returned is the person's
own (the margins were measured on PETS 2009 against its ground truth), so its bottom
centre is the person's feet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from cv2.typing import MatLike

from footfall.agent.perspective import Perspective

__all__ = ["PeopleDetector", "Person", "covered", "nms"]

Box = tuple[float, float, float, float]

WINDOW = (64, 128)
PERSON_PX = 96  # a person's height inside the detector's window
# Where the person is inside a detection window, as fractions of its width and height.
LEFT, TOP, RIGHT, BOTTOM = 0.24, 0.125, 0.25, 0.16
MIN_HEIGHT = 30  # px: candidates lower than this are not searched
MAX_ZOOM = 2.5  # a region is enlarged at most this much


@dataclass(frozen=True)
class Person:
    box: Box
    score: float  # the SVM's margin: 0 at the decision boundary, about 1-3 for a clear person


def _iou(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def covered(a: Box, b: Box) -> float:
    """The fraction of box a inside box b."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1e-9, (a[2] - a[0]) * (a[3] - a[1]))


def nms(people: Sequence[Person], threshold: float = 0.4) -> list[Person]:
    """Best first; a box overlapping a kept one (IoU, or mostly inside it) is dropped."""
    kept: list[Person] = []
    for person in sorted(people, key=lambda p: -p.score):
        if all(
            _iou(person.box, k.box) <= threshold and covered(person.box, k.box) <= 0.7 for k in kept
        ):
            kept.append(person)
    return kept


@dataclass
class _Region:
    x1: float
    y1: float
    x2: float
    y2: float
    heights: list[float]

    def touches(self, other: _Region) -> bool:
        across = self.x1 < other.x2 and other.x1 < self.x2
        return across and self.y1 < other.y2 and other.y1 < self.y2

    def absorb(self, other: _Region) -> None:
        self.x1, self.y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        self.x2, self.y2 = max(self.x2, other.x2), max(self.y2, other.y2)
        self.heights += other.heights


class PeopleDetector:
    def __init__(self, sweep_first_frame: bool = True) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.array(cv2.HOGDescriptor.getDefaultPeopleDetector()))
        self.first = sweep_first_frame
        self.perspective = Perspective()

    def __call__(self, frame: MatLike, candidates: Sequence[Box]) -> list[Person]:
        height, width = frame.shape[:2]
        regions = _regions(candidates, width, height, self.perspective)
        if self.first:
            self.first = False
            # The whole frame, for people from a tenth of its height upwards.
            regions = [_Region(0, 0, width, height, [max(40.0, height / 10)])]
        found: list[Person] = []
        for region in regions:
            found += self._search(frame, region)
        # A "person" of the wrong size for where it stands is not one (a pattern on a wall,
        # a group seen as one giant); the plausible ones teach the sizes.
        people = []
        for person in nms(found):
            _, top, _, feet = person.box
            if self.perspective.plausible(feet, feet - top):
                people.append(person)
                if person.score >= 0.5:
                    self.perspective.add(feet, feet - top)
        return people

    def _search(self, frame: MatLike, region: _Region) -> list[Person]:
        x1, y1 = int(region.x1), int(region.y1)
        crop = frame[y1 : int(region.y2), x1 : int(region.x2)]
        expected = float(np.median(region.heights))
        zoom = min(MAX_ZOOM, PERSON_PX / max(MIN_HEIGHT, 0.85 * expected))
        crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
        pad_y = max(0, WINDOW[1] + 8 - crop.shape[0])
        pad_x = max(0, WINDOW[0] + 8 - crop.shape[1])
        if pad_x or pad_y:
            crop = cv2.copyMakeBorder(
                crop,
                pad_y // 2,
                pad_y - pad_y // 2,
                pad_x // 2,
                pad_x - pad_x // 2,
                cv2.BORDER_REPLICATE,
            )
        rects, weights = self.hog.detectMultiScale(
            crop, hitThreshold=0.0, winStride=(8, 8), padding=(8, 8), scale=1.1
        )
        people: list[Person] = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=True):
            left = x1 + (x - pad_x // 2) / zoom
            top = y1 + (y - pad_y // 2) / zoom
            bw, bh = w / zoom, h / zoom
            box = (
                left + LEFT * bw,
                top + TOP * bh,
                left + (1 - RIGHT) * bw,
                top + (1 - BOTTOM) * bh,
            )
            people.append(Person(box, float(weight)))
        return people


def _regions(
    candidates: Sequence[Box], width: int, height: int, perspective: Perspective
) -> list[_Region]:
    """Candidates expanded by the margins a whole person needs, merged where they overlap.
    Once the scene's sizes are known, a candidate (a head, a pair of legs) is taken to be
    a person as tall as a person standing at its bottom would be."""
    regions: list[_Region] = []
    for x1, y1, x2, y2 in candidates:
        known = perspective.height(y2)
        h = y2 - y1 if known is None else known
        if h < MIN_HEIGHT:
            continue
        region = _Region(
            max(0.0, x1 - 0.45 * h),
            max(0.0, y1 - 0.3 * h),
            min(float(width), x2 + 0.45 * h),
            min(float(height), y2 + 0.3 * h),
            [h],
        )
        if region.x2 - region.x1 >= 8 and region.y2 - region.y1 >= 16:
            regions.append(region)
    merged = True
    while merged:
        merged = False
        out: list[_Region] = []
        for region in regions:
            for other in out:
                if region.touches(other):
                    other.absorb(region)
                    merged = True
                    break
            else:
                out.append(region)
        regions = out
    return regions
