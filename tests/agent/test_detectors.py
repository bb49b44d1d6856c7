"""The agent's other detectors and options: a user's YOLO ONNX model (a tiny graph built
here), faces, and a channel's `fps` overriding the file's declared rate."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from footfall.agent.config import ChannelConfig, ConfigError, DetectorConfig, TriggerConfig
from footfall.agent.pipeline import ChannelPipeline
from footfall.agent.source import VideoSource
from footfall.agent.synthetic import Actor, Scenario, render
from footfall.agent.yolo import YoloOnnx

SIZE = 64  # the tiny model's input


def tiny_yolo(path: Path, output: np.ndarray) -> Path:
    """A YOLO-format ONNX graph: input `images` (1, 3, 64, 64), output `output0` = the
    given detections (it reads its input, times zero, so the input flows through)."""
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["detections", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        initializer=[
            numpy_helper.from_array(output.astype(np.float32), "detections"),
            numpy_helper.from_array(np.zeros(1, dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def v8_output() -> np.ndarray:
    """(1, 4 + 3 classes, 10 candidates), in the model's 64x64 input pixels."""
    out = np.zeros((1, 7, 10), dtype=np.float32)  # candidates 5-9: all scores 0
    out[0, :, 0] = [16, 32, 10, 20, 0.9, 0, 0]  # class 0, kept
    out[0, :, 1] = [17, 33, 10, 20, 0.6, 0, 0]  # the same object, weaker: suppressed
    out[0, :, 2] = [48, 20, 20, 10, 0, 0, 0.8]  # class 2, kept
    out[0, :, 3] = [30, 30, 8, 8, 0, 0.95, 0]  # class 1: not in the class map
    out[0, :, 4] = [40, 40, 8, 8, 0.1, 0, 0]  # below the confidence
    return out


def test_yolov8_output_is_decoded_into_the_frame(tmp_path: Path) -> None:
    model = YoloOnnx(tiny_yolo(tmp_path / "m.onnx", v8_output()), {0, 2}, SIZE, 0.4)
    # A 128x64 frame is letterboxed at half size into the top of the 64x64 input.
    found = model(np.full((64, 128, 3), 90, dtype=np.uint8))
    assert sorted((f.class_index, round(f.score, 2)) for f in found) == [(0, 0.9), (2, 0.8)]
    person = next(f for f in found if f.class_index == 0)
    assert person.box == pytest.approx((22.0, 44.0, 42.0, 64.0))  # (16 +- 5, 32 +- 10) * 2


def test_a_file_that_is_not_a_model_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"detector\.onnx: OpenCV cannot load"):
        YoloOnnx(tmp_path / "m.onnx", {0}, SIZE, 0.4)


def test_yolov5_output_multiplies_objectness(tmp_path: Path) -> None:
    out = np.zeros((1, 10, 8), dtype=np.float32)  # (1, N, 5 + 3 classes)
    out[0, 0] = [16, 16, 8, 16, 0.9, 0.9, 0, 0]  # 0.81: kept
    out[0, 1] = [40, 40, 8, 16, 0.5, 0.7, 0, 0]  # 0.35: below 0.4
    model = YoloOnnx(tiny_yolo(tmp_path / "m.onnx", out), {0}, SIZE, 0.4)
    [found] = model(np.zeros((SIZE, SIZE, 3), dtype=np.uint8))
    assert found.score == pytest.approx(0.81)
    assert found.box == pytest.approx((12.0, 8.0, 20.0, 24.0))


def test_a_configured_onnx_model_gives_objects_of_the_mapped_origins(tmp_path: Path) -> None:
    model = tiny_yolo(tmp_path / "m.onnx", v8_output())
    render(Scenario(frames=12), tmp_path / "empty.avi")
    detector = DetectorConfig(
        kind="onnx", onnx=model, classes=((0, "Pedestrian"), (2, "Vehicle/Bus")), size=SIZE
    )
    channel = ChannelConfig(
        "cam",
        "Camera",
        str(tmp_path / "empty.avi"),
        (TriggerConfig("t-scene", "Scene", "Scene"),),
        start_time_ms=0,
        detector=detector,
    )
    events = run(channel)
    appeared = Counter(
        (e["origin"], e["suborigin"]) for e in events if e["event_type"] == "ObjectAppear"
    )
    assert appeared == {("Pedestrian", "Unknown"): 1, ("Vehicle", "Bus"): 1}


def run(channel: ChannelConfig) -> list[dict[str, Any]]:
    cv2.setNumThreads(1)
    source = VideoSource(channel)
    fps, shape = source.probe()
    pipeline = ChannelPipeline(channel, 0, fps, shape)
    events: list[dict[str, Any]] = []
    for frame, t_ms in source.frames():
        events.extend(pipeline.process(frame, t_ms))
    return events


def test_a_person_whose_face_is_found_is_a_face(tmp_path: Path) -> None:
    scenario = Scenario(
        frames=150,
        actors=[
            Actor("face", [(30, 500, 560), (90, 800, 560)], (40, 40, 160)),
            Actor("person", [(60, 500, 300), (120, 800, 300)], (40, 140, 40)),
        ],
    )
    render(scenario, tmp_path / "faces.avi")
    line = ((640, 0), (640, 720))
    channel = ChannelConfig(
        "cam",
        "Camera",
        str(tmp_path / "faces.avi"),
        (TriggerConfig("t-line", "Line", "Line", line=line, direction="both"),),
        start_time_ms=0,
        # The rendered figures are drawn shapes, not people a learned detector knows:
        # the motion-and-HOG path finds them, and the face finder is the same for all.
        detector=DetectorConfig(kind="people"),
    )
    crossings = [e for e in run(channel) if e["event_type"] == "TripwireCrossed"]
    assert sorted((e["origin"], e["suborigin"]) for e in crossings) == [
        ("Face", ""),
        ("Pedestrian", "Unknown"),
    ]
    # Without the face detector, both are pedestrians.
    plain = ChannelConfig(
        channel.id,
        channel.name,
        channel.source,
        channel.triggers,
        start_time_ms=0,
        faces=False,
        detector=channel.detector,
    )
    assert {e["origin"] for e in run(plain) if e["event_type"] == "TripwireCrossed"} == {
        "Pedestrian"
    }


def test_the_channel_fps_overrides_the_rate_the_file_declares(tmp_path: Path) -> None:
    render(Scenario(frames=10), tmp_path / "v.avi")  # declares 25 fps
    declared = ChannelConfig("cam", "Camera", str(tmp_path / "v.avi"), (), start_time_ms=0)
    true_rate = ChannelConfig(
        "cam", "Camera", str(tmp_path / "v.avi"), (), start_time_ms=0, fps=7.0
    )
    assert VideoSource(declared).probe()[0] == 25
    assert VideoSource(true_rate).probe()[0] == 7
    times = [t for _, t in VideoSource(true_rate).frames()]
    assert times == [int(k * 1000 / 7) for k in range(10)]  # the 10th frame at 1.286 s
