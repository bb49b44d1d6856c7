"""The agent's YAML configuration, checked field by field with clear errors.

server: http://127.0.0.1:8000
token: <ingest token>
spool: ./agent-spool.db
channels:
  - id: cam-door
    name: Entrance
    source: entrance.mp4          # a file, an rtsp:// URL, or a camera index
    start_time: 2026-11-24T09:00:00+01:00   # recorded video: its first frame's time
    loop: false                   # replay a file forever
    fps: 7                        # the true frame rate, when a file's header is wrong
    detector: yolo                # yolo (default when installed) | people | motion | {onnx: ...}
    faces: true                   # a face found on a person makes its origin Face
    triggers:
      - {id: t-enter, name: Enter, type: Line, line: [[640, 0], [640, 720]],
         direction: forward}
      - {id: t-queue, name: Queue, type: Zone,
         polygon: [[100, 400], [500, 400], [500, 700], [100, 700]],
         loitering_seconds: 60, crowd: {count: 5, seconds: 10}}
      - {id: t-scene, name: Scene, type: Scene}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from footfall.domain import vocabulary as v

__all__ = [
    "AgentConfig",
    "ChannelConfig",
    "ConfigError",
    "DetectorConfig",
    "TriggerConfig",
    "load_config",
]

DIRECTIONS = ("forward", "backward", "both")
DETECTORS = ("auto", "yolo", "people", "motion", "onnx")
# What a user's ONNX model's class may be counted as: an origin, or Vehicle/<suborigin>.
ONNX_ORIGINS = (
    "Pedestrian",
    "Face",
    "Vehicle",
    "Vehicle/Car",
    "Vehicle/Truck",
    "Vehicle/Bus",
    "Vehicle/Motorcycle",
    "Vehicle/Bicycle",
)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the field."""


@dataclass(frozen=True)
class TriggerConfig:
    id: str
    name: str
    type: str
    line: tuple[tuple[int, int], tuple[int, int]] | None = None
    direction: str = "forward"
    polygon: tuple[tuple[int, int], ...] | None = None
    loitering_seconds: float | None = None
    crowd_count: int | None = None
    crowd_seconds: float = 0.0


@dataclass(frozen=True)
class DetectorConfig:
    """How objects are found in a frame.

    `auto` (the default): `yolo` when its weights are installed, else `people`. `yolo`:
    the learned people detector (YOLOv4-tiny, agent/darknet.py). `people`: moving
    regions (background subtraction) and the tracked objects' last places are searched
    with OpenCV's HOG people detector, which confirms and separates people; moving blobs
    it does not explain stay objects classified by shape. `motion`: blobs only. `onnx`:
    a YOLO-format model the user brings (run by OpenCV's DNN module), with its class ids
    mapped to origins in `classes`; other classes are ignored.
    """

    kind: str = "auto"
    onnx: Path | None = None
    classes: tuple[tuple[int, str], ...] = ((0, "Pedestrian"),)
    size: int = 640  # the model's square input, in pixels
    confidence: float = 0.4


@dataclass(frozen=True)
class ChannelConfig:
    id: str
    name: str
    source: str | int
    triggers: tuple[TriggerConfig, ...]
    start_time_ms: int | None = None
    loop: bool = False
    min_area: int = 600  # smallest blob (px, at full resolution) that is an object
    crossing_frames: int = 3  # frames on the far side before a crossing counts
    fps: float | None = None  # overrides the rate a file declares (and a stream's)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    faces: bool = True


@dataclass(frozen=True)
class AgentConfig:
    server: str
    token: str
    spool: Path
    channels: tuple[ChannelConfig, ...] = field(default_factory=tuple)


def _point(value: Any, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(c, int | float) for c in value)
    ):
        raise ConfigError(f"{where}: expected a point [x, y], got {value!r}")
    return int(value[0]), int(value[1])


def _text(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return value


def _trigger(raw: Any, where: str) -> TriggerConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    trigger_id = _text(raw, "id", where)
    if (why := v.id_problem(trigger_id)) is not None:
        raise ConfigError(f"{where}.id: {why}")
    kind = _text(raw, "type", where)
    if kind not in v.TRIGGER_TYPES:
        raise ConfigError(f"{where}.type: {kind!r} is not one of Line, Zone, Scene")
    name = _text(raw, "name", where, trigger_id)
    if kind == "Line":
        line = raw.get("line")
        if not isinstance(line, list) or len(line) != 2:
            raise ConfigError(f"{where}.line: expected two points [[x1, y1], [x2, y2]]")
        direction = raw.get("direction", "forward")
        if direction not in DIRECTIONS:
            raise ConfigError(f"{where}.direction: expected forward, backward or both")
        return TriggerConfig(
            trigger_id,
            name,
            kind,
            line=(_point(line[0], f"{where}.line[0]"), _point(line[1], f"{where}.line[1]")),
            direction=direction,
        )
    if kind == "Zone":
        polygon = raw.get("polygon")
        if not isinstance(polygon, list) or len(polygon) < 3:
            raise ConfigError(f"{where}.polygon: expected at least three points")
        crowd = raw.get("crowd")
        count, seconds = None, 0.0
        if crowd is not None:
            if not isinstance(crowd, dict) or not isinstance(crowd.get("count"), int):
                raise ConfigError(f"{where}.crowd: expected {{count: N, seconds: S}}")
            count, seconds = int(crowd["count"]), float(crowd.get("seconds", 0))
        loiter = raw.get("loitering_seconds")
        if loiter is not None and (not isinstance(loiter, int | float) or loiter <= 0):
            raise ConfigError(f"{where}.loitering_seconds: expected a positive number")
        return TriggerConfig(
            trigger_id,
            name,
            kind,
            polygon=tuple(_point(p, f"{where}.polygon[{i}]") for i, p in enumerate(polygon)),
            loitering_seconds=None if loiter is None else float(loiter),
            crowd_count=count,
            crowd_seconds=seconds,
        )
    return TriggerConfig(trigger_id, name, kind)


def _detector(raw: Any, where: str, base: Path) -> DetectorConfig:
    if raw is None:
        return DetectorConfig()
    if raw in ("yolo", "people", "motion"):
        return DetectorConfig(kind=str(raw))
    if not isinstance(raw, dict) or "onnx" not in raw:
        raise ConfigError(f"{where}: expected yolo, people, motion or {{onnx: path/to/model.onnx}}")
    path = raw["onnx"]
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{where}.onnx: expected the path of a .onnx file")
    model = Path(path) if Path(path).is_absolute() else base / path
    if not model.is_file():
        raise ConfigError(f"{where}.onnx: {model} is not a file")
    classes_raw = raw.get("classes", {0: "Pedestrian"})
    if not isinstance(classes_raw, dict) or not classes_raw:
        raise ConfigError(f"{where}.classes: expected a mapping of class ids to origins")
    classes: list[tuple[int, str]] = []
    for key, origin in classes_raw.items():
        if not isinstance(key, int) or key < 0:
            raise ConfigError(f"{where}.classes: {key!r} is not a class id (0, 1, 2, ...)")
        if origin not in ONNX_ORIGINS:
            raise ConfigError(
                f"{where}.classes[{key}]: {origin!r} is not one of {', '.join(ONNX_ORIGINS)}"
            )
        classes.append((key, str(origin)))
    size = raw.get("size", 640)
    if not isinstance(size, int) or not 32 <= size <= 4096 or size % 32:
        raise ConfigError(f"{where}.size: expected a multiple of 32 from 32 to 4096")
    confidence = raw.get("confidence", 0.4)
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise ConfigError(f"{where}.confidence: expected a number between 0 and 1")
    return DetectorConfig(
        kind="onnx",
        onnx=model,
        classes=tuple(sorted(classes)),
        size=size,
        confidence=float(confidence),
    )


def _channel(raw: Any, where: str, base: Path) -> ChannelConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    channel_id = _text(raw, "id", where)
    if (why := v.id_problem(channel_id)) is not None:
        raise ConfigError(f"{where}.id: {why}")
    source = raw.get("source")
    if isinstance(source, int):
        resolved: str | int = source
    elif isinstance(source, str) and source:
        resolved = source if "://" in source or Path(source).is_absolute() else str(base / source)
    else:
        raise ConfigError(f"{where}.source: expected a file, an rtsp:// URL or a camera index")
    start = raw.get("start_time")
    start_ms = None
    if start is not None:
        moment = start if isinstance(start, datetime) else None
        if moment is None:
            try:
                moment = datetime.fromisoformat(str(start))
            except ValueError:
                raise ConfigError(f"{where}.start_time: expected ISO 8601 with an offset") from None
        if moment.tzinfo is None:
            raise ConfigError(f"{where}.start_time: add the UTC offset (Z or ±HH:MM)")
        start_ms = int(moment.timestamp() * 1000)
    triggers = raw.get("triggers") or []
    if not isinstance(triggers, list):
        raise ConfigError(f"{where}.triggers: expected a list")
    fps = raw.get("fps")
    if fps is not None and (
        isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 240
    ):
        raise ConfigError(f"{where}.fps: expected frames per second between 0 and 240")
    faces = raw.get("faces", True)
    if not isinstance(faces, bool):
        raise ConfigError(f"{where}.faces: expected true or false")
    return ChannelConfig(
        channel_id,
        _text(raw, "name", where, channel_id),
        resolved,
        tuple(_trigger(t, f"{where}.triggers[{i}]") for i, t in enumerate(triggers)),
        start_time_ms=start_ms,
        loop=bool(raw.get("loop", False)),
        min_area=int(raw.get("min_area", 600)),
        crossing_frames=int(raw.get("crossing_frames", 3)),
        fps=None if fps is None else float(fps),
        detector=_detector(raw.get("detector"), f"{where}.detector", base),
        faces=faces,
    )


def load_config(path: Path) -> AgentConfig:
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with server, token, spool, channels")
    base = path.resolve().parent
    channels = raw.get("channels")
    if not isinstance(channels, list) or not channels:
        raise ConfigError("channels: expected a list of at least one channel")
    parsed = tuple(_channel(c, f"channels[{i}]", base) for i, c in enumerate(channels))
    seen: set[str] = set()
    for channel in parsed:
        for trigger in channel.triggers:
            if trigger.id in seen:
                raise ConfigError(f"trigger id {trigger.id!r} is used twice: ids are per site")
            seen.add(trigger.id)
    spool = Path(str(raw.get("spool", "agent-spool.db")))
    return AgentConfig(
        server=_text(raw, "server", "config").rstrip("/"),
        token=_text(raw, "token", "config"),
        spool=spool if spool.is_absolute() else base / spool,
        channels=parsed,
    )
