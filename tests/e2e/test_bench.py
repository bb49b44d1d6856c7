"""`footfall bench --quick` runs every benchmark and prints one table."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_bench_prints_one_table_with_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "footfall", "bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["measure", "figure", "baseline", "ratio"]
    body = "\n".join(lines[2:])
    assert "ingest over HTTP" in body
    assert "/totals/triggers 30 days" in body
    assert "/events page of 1,000" in body
    assert "histograms: 1 day" in body
    assert "webhook latency" in body
    assert "agent pipeline on 1280x720" in body
