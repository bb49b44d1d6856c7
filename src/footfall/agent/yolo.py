"""A user's YOLO-format ONNX model, run by OpenCV's DNN module (no other runtime).

The frame is letterboxed into the model's square input (aspect kept, grey padding), the
output decoded, and boxes mapped back to the frame. Two output layouts are understood:
`(1, 4 + C, N)` (YOLOv8 and later: cx, cy, w, h, then C class scores) and `(1, N, 5 + C)`
(YOLOv5: cx, cy, w, h, objectness, then C class scores, multiplied by the objectness).
(The longer axis is the candidates': thousands of them, against 4 + C or 5 + C values.)
Only the classes named in the configuration are kept; the rest are not objects here.
Boxes of one class overlapping by more than 0.5 IoU are merged (non-maximum suppression).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from cv2.typing import MatLike

from footfall.agent.config import ConfigError

__all__ = ["Found", "YoloOnnx"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Found:
    box: Box
    score: float
    class_index: int  # the model's class


class YoloOnnx:
    def __init__(self, path: Path, classes: set[int], size: int, confidence: float) -> None:
        try:
            self.net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            raise ConfigError(
                f"detector.onnx: OpenCV cannot load {path} as an ONNX model ({exc.err})"
            ) from None
        self.classes = classes
        self.size = size
        self.confidence = confidence

    def __call__(self, frame: MatLike) -> list[Found]:
        height, width = frame.shape[:2]
        zoom = min(self.size / width, self.size / height)
        resized = cv2.resize(frame, (round(width * zoom), round(height * zoom)))
        canvas = np.full((self.size, self.size, 3), 114, dtype=np.uint8)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        blob = cv2.dnn.blobFromImage(canvas, 1 / 255.0, (self.size, self.size), swapRB=True)
        self.net.setInput(blob)
        out = np.asarray(self.net.forward(), dtype=np.float32)
        return self._decode(out.reshape(out.shape[-2:]), zoom, width, height)

    def _decode(
        self, out: npt.NDArray[np.float32], zoom: float, width: int, height: int
    ) -> list[Found]:
        if out.shape[0] < out.shape[1]:  # (4 + C, N): one column per candidate
            rows = out.T
            scores = rows[:, 4:]
        else:  # (N, 5 + C): objectness times the class scores
            rows = out
            scores = rows[:, 5:] * rows[:, 4:5]
        if scores.shape[1] == 0:
            return []
        best = np.argmax(scores, axis=1)
        score = scores[np.arange(len(rows)), best]
        keep = (score >= self.confidence) & np.isin(best, list(self.classes))
        found: list[Found] = []
        for cls in sorted(set(best[keep].tolist())):
            picked = np.flatnonzero(keep & (best == cls))
            cx, cy, w, h = (rows[picked, k] / zoom for k in range(4))
            boxes = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
            chosen = cv2.dnn.NMSBoxes(boxes.tolist(), score[picked].tolist(), self.confidence, 0.5)
            for i in np.ravel(chosen).tolist():
                x, y, bw, bh = boxes[i]
                box = (
                    float(max(0.0, x)),
                    float(max(0.0, y)),
                    float(min(width, x + bw)),
                    float(min(height, y + bh)),
                )
                found.append(Found(box, float(score[picked[i]]), int(cls)))
        return found
