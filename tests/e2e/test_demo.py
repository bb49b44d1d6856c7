"""`footfall demo --days 1` from an empty directory: the printed request returns data."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from footfall.benchmarks.harness import free_port
from footfall.sim.demo import EXAMPLE_BEGIN, EXAMPLE_END, READY_LINE

pytestmark = pytest.mark.slow


def test_demo_prints_a_request_that_returns_data(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    with subprocess.Popen(
        [sys.executable, "-m", "footfall", "demo", "--days", "1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as demo:
        _check_demo(demo, tmp_path)
    assert demo.returncode == 0


def _check_demo(demo: subprocess.Popen[str], tmp_path: Path) -> None:
    try:
        assert demo.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 120
        while READY_LINE not in "".join(printed):
            assert time.monotonic() < deadline, "the demo never became ready"
            line = demo.stdout.readline()
            assert line or demo.poll() is None, "".join(printed)
            printed.append(line)
        output = "".join(printed)
        example = re.search(
            re.escape(EXAMPLE_BEGIN) + r"\n(.*?)" + re.escape(EXAMPLE_END), output, re.S
        )
        assert example is not None, output
        assert output.index(EXAMPLE_BEGIN) < output.index(READY_LINE)  # shown before backfill
        answer = subprocess.run(
            ["bash", "-c", example.group(1)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        body = json.loads(answer.stdout)
        assert body["code"] == 0, body
        assert sum(item["count"] for item in body["result"]) > 1000
        assert (tmp_path / "footfall-demo.db").exists()
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            raise
