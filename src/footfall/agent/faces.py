"""Faces on people: OpenCV's Haar cascade for frontal faces (the file ships inside the
OpenCV 4 wheel, in `cv2.data`: nothing is downloaded), searched only in the head of each
person box, for a face of a plausible size there.

A whole-frame search finds faces in posters and brickwork; the head of a detected person
is where a real one can be. Heads under 12 px (people under about 80 px tall, as in an
elevated view of a plaza) are too small for the cascade: such people stay Pedestrians.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
from cv2.typing import MatLike

__all__ = ["FaceFinder"]

Box = tuple[float, float, float, float]

CASCADE = "haarcascade_frontalface_default.xml"
FACE_PX = 28  # the cascade's window is 24 px: a head is enlarged to about this
MIN_PERSON = 80  # px: the smallest person whose face is looked for


class FaceFinder:
    def __init__(self) -> None:
        path = Path(cv2.__file__).parent / "data" / CASCADE
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise RuntimeError(f"the OpenCV wheel has no {CASCADE} (OpenCV 4 ships it)")

    def __call__(self, frame: MatLike, people: Sequence[Box]) -> list[bool]:
        """For each person box, whether a face was found in its head."""
        height, width = frame.shape[:2]
        found = []
        for x1, y1, x2, y2 in people:
            h = y2 - y1
            if h < MIN_PERSON:
                found.append(False)
                continue
            # A face is about an eighth of a person's height, in the top fifth of the box
            # (the box may start a little above or below the crown).
            face = h / 8
            left, right = int(max(0, x1 - face)), int(min(width, x2 + face))
            top, bottom = int(max(0, y1 - face)), int(min(height, y1 + 0.3 * h))
            if right - left < 8 or bottom - top < 8:
                found.append(False)
                continue
            zoom = max(1.0, FACE_PX / face)
            head = cv2.cvtColor(frame[top:bottom, left:right], cv2.COLOR_BGR2GRAY)
            head = cv2.resize(head, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_LINEAR)
            faces = self.cascade.detectMultiScale(
                head,
                scaleFactor=1.1,
                minNeighbors=4,
                minSize=(int(0.6 * face * zoom), int(0.6 * face * zoom)),
                maxSize=(int(2.2 * face * zoom), int(2.2 * face * zoom)),
            )
            found.append(len(faces) > 0)
        return found
