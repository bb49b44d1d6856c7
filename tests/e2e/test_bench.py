"""`footfall bench --quick` runs every benchmark and prints one table."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PG_ENV

pytestmark = pytest.mark.slow


def test_bench_prints_one_table_with_every_benchmark() -> None:
    # With the PostgreSQL of the test run (CI has one), its rows too.
    postgresql = os.environ.get(PG_ENV)
    done = subprocess.run(
        [sys.executable, "-m", "footfall", "bench", "--quick"]
        + (["--postgresql", postgresql] if postgresql else []),
        capture_output=True,
        text=True,
        timeout=1200,  # the whole quick table: 10-13 min when other suites share the cores
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
    assert "webhook events arrived" in body
    # Each figure beside the fastest plain path for the same work (docs/benchmarks.md).
    assert "plain multi-row INSERT, 1,000 rows/transaction, synchronous=FULL" in body
    assert "plain sqlite3 read + msgspec encode" in body
    if os.environ.get("FOOTFALL_REAL_DATA"):  # the agent is measured on real footage
        assert "agent on PETS09-S2L1 frames at 1920x1080, 30 fps" in body
        # Judged against the video's own rate, beside decoding as the baseline.
        assert ">= 30 fps per CPU second (the video's rate)" in body
    if postgresql:
        assert "ingest over HTTP (PostgreSQL, 4 sites, 4 clients" in body
        assert "plain binary COPY of the same rows" in body
        assert "/totals/triggers 30 days p50 at 1M (PostgreSQL)" in body
        assert "retention: drop a partition" in body
    else:
        assert "PostgreSQL benchmarks skipped" in done.stderr
