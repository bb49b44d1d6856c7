"""The agent's YAML configuration and its preview."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from footfall.agent.config import ConfigError, load_config
from footfall.agent.preview import write_preview
from footfall.agent.synthetic import Scenario, render

GOOD = """
server: http://127.0.0.1:8000/
token: ffi_secret
spool: ./agent-spool.db
channels:
  - id: cam-door
    name: Entrance
    source: entrance.avi
    start_time: 2026-11-24T09:00:00+01:00
    triggers:
      - {id: t-enter, name: Enter, type: Line, line: [[640, 0], [640, 720]], direction: forward}
      - {id: t-exit,  name: Exit,  type: Line, line: [[640, 0], [640, 720]], direction: backward}
      - {id: t-queue, name: Queue, type: Zone, polygon: [[100, 400], [500, 400], [500, 700], [100, 700]],
         loitering_seconds: 60, crowd: {count: 5, seconds: 10}}
      - {id: t-scene, name: Scene, type: Scene}
"""


def test_a_full_configuration(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.server == "http://127.0.0.1:8000"
    assert config.spool == tmp_path / "agent-spool.db"
    [channel] = config.channels
    assert channel.source == str(tmp_path / "entrance.avi")
    assert channel.start_time_ms == 1_795_507_200_000  # 2026-11-24T08:00:00Z
    queue = channel.triggers[2]
    assert (queue.loitering_seconds, queue.crowd_count, queue.crowd_seconds) == (60.0, 5, 10.0)
    assert channel.triggers[1].direction == "backward"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("type: Line, line: [[640, 0], [640, 720]], direction: forward}", "type: Line}"),
            "channels[0].triggers[0].line: expected two points",
        ),
        (
            ("direction: backward", "direction: sideways"),
            "channels[0].triggers[1].direction: expected forward, backward or both",
        ),
        (("type: Scene", "type: Room"), "channels[0].triggers[3].type: 'Room' is not one of"),
        (
            ("polygon: [[100, 400], [500, 400], [500, 700], [100, 700]]", "polygon: [[1, 2]]"),
            "channels[0].triggers[2].polygon: expected at least three points",
        ),
        (("2026-11-24T09:00:00+01:00", "'2026-11-24 09:00'"), "add the UTC offset"),
        (("id: t-exit", "id: t-enter"), "trigger id 't-enter' is used twice"),
        (("token: ffi_secret\n", ""), "config.token: expected a non-empty string"),
        (("id: cam-door", "id: 'a,b'"), "channels[0].id: must not contain ','"),
        (("name: Entrance", "name: Entrance\n    fps: 0"), "channels[0].fps: expected frames"),
        (("name: Entrance", "name: Entrance\n    faces: maybe"), "channels[0].faces: expected"),
        (
            ("name: Entrance", "name: Entrance\n    detector: ssd"),
            "channels[0].detector: expected yolo, people, motion or {onnx: path/to/model.onnx}",
        ),
        (
            ("name: Entrance", "name: Entrance\n    detector: {onnx: missing.onnx}"),
            "channels[0].detector.onnx: ",
        ),
    ],
)
def test_bad_configurations_name_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert message in str(refused.value)


def test_unreadable_or_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_preview_draws_on_a_frame_of_each_source(tmp_path: Path) -> None:
    render(Scenario(frames=5), tmp_path / "entrance.avi")
    path = tmp_path / "agent.yaml"
    path.write_text(
        GOOD + GOOD.split("channels:\n")[1].replace("cam-door", "cam-two").replace("t-", "u-")
    )
    out = tmp_path / "preview.png"
    write_preview(load_config(path), out)
    image = cv2.imread(str(out))
    assert image is not None
    assert image.shape[:2] == (1440, 1280)  # two 1280x720 frames, one above the other
    # The drawn geometry differs from the untouched frame (the lines are there).
    assert float(abs(image[:720, 630:650].astype(int) - 150).mean()) > 20


def test_detector_fps_and_faces(tmp_path: Path) -> None:
    (tmp_path / "yolo.onnx").write_bytes(b"not checked until the agent starts")
    path = tmp_path / "agent.yaml"
    path.write_text(
        GOOD.replace(
            "name: Entrance",
            "name: Entrance\n    fps: 7\n    faces: false\n"
            "    detector: {onnx: yolo.onnx, classes: {0: Pedestrian, 2: Vehicle/Car},"
            " size: 320, confidence: 0.5}",
        )
    )
    [channel] = load_config(path).channels
    assert (channel.fps, channel.faces) == (7.0, False)
    detector = channel.detector
    assert (detector.kind, detector.onnx, detector.size, detector.confidence) == (
        "onnx",
        tmp_path / "yolo.onnx",
        320,
        0.5,
    )
    assert detector.classes == ((0, "Pedestrian"), (2, "Vehicle/Car"))
    path.write_text(GOOD)
    [default] = load_config(path).channels
    assert (default.fps, default.faces, default.detector.kind) == (None, True, "auto")


@pytest.mark.parametrize(
    ("detector", "message"),
    [
        ("{onnx: yolo.onnx, classes: {0: Dog}}", "classes[0]: 'Dog' is not one of Pedestrian"),
        ("{onnx: yolo.onnx, classes: {a: Pedestrian}}", "classes: 'a' is not a class id"),
        ("{onnx: yolo.onnx, size: 300}", "size: expected a multiple of 32"),
        ("{onnx: yolo.onnx, confidence: 2}", "confidence: expected a number between 0 and 1"),
    ],
)
def test_bad_onnx_detectors_name_the_field(tmp_path: Path, detector: str, message: str) -> None:
    (tmp_path / "yolo.onnx").write_bytes(b"")
    path = tmp_path / "agent.yaml"
    path.write_text(GOOD.replace("name: Entrance", f"name: Entrance\n    detector: {detector}"))
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert f"channels[0].detector.{message}" in str(refused.value)
