"""The agent end to end with a real `footfall serve`: kill the server mid-run and restart
it, kill the agent mid-run and restart it; the totals still equal the ground truth, with
no duplicates."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from footfall.agent.synthetic import FPS, render, standard_scenario
from footfall.benchmarks.harness import ServerProcess
from footfall.store.db import Database
from footfall.store.schema import coverage_quarters, events
from tests.conftest import make_site

pytestmark = pytest.mark.slow


def stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kills_of_server_and_agent_lose_and_duplicate_nothing(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    site = make_site(db)
    scenario = standard_scenario()
    render(scenario, tmp_path / "door.avi")
    start = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    server = ServerProcess(db_url)
    (tmp_path / "agent.yaml").write_text(f"""
server: {server.url}
token: {site.ingest_token}
spool: spool.db
channels:
  - id: cam-door
    name: Entrance
    source: door.avi
    start_time: {start}
    detector: people  # the rendered figures are drawn shapes, found by motion and HOG
    triggers:
      - {{id: t-in, name: In, type: Line, line: [[640, 0], [640, 720]], direction: forward}}
      - {{id: t-out, name: Out, type: Line, line: [[640, 0], [640, 720]], direction: backward}}
""")
    command = [sys.executable, "-m", "footfall", "agent", "--config", "agent.yaml"]
    try:
        server.start()
        with subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        ) as agent:
            wait_for(lambda: stored(db) > 0)
            server.kill()  # the agent keeps spooling and retrying
            time.sleep(1.0)
            server.start()
            before = stored(db)
            wait_for(lambda: stored(db) > before)
            agent.kill()
        with subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as again:
            out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        assert "events acknowledged" in out
    finally:
        server.close()
    truth = scenario.crossing_times(640, (0, 720))
    with db.read() as conn:
        rows = conn.execute(
            select(events.c.trigger_id, events.c.event_type, events.c.record_id)
        ).all()
    record_ids = [r.record_id for r in rows]
    assert len(record_ids) == len(set(record_ids))
    crossings = [r for r in rows if r.event_type == "TripwireCrossed"]
    assert sum(1 for r in crossings if r.trigger_id == "t-in") == sum(
        1 for _, d in truth if d == "forward"
    )
    assert sum(1 for r in crossings if r.trigger_id == "t-out") == sum(
        1 for _, d in truth if d == "backward"
    )
    assert (tmp_path / "spool.db").exists()
    # Heartbeats every 30 s of frame time (docs/agent.md): the video's span is covered, the
    # time the server was killed included (they were spooled).
    with db.read() as conn:
        covered = conn.execute(
            select(func.sum(coverage_quarters.c.covered_s)).where(
                coverage_quarters.c.channel_id == "cam-door"
            )
        ).scalar_one()
    assert covered is not None
    assert covered >= scenario.frames // FPS


def test_sigterm_drains_the_spool_of_a_looping_source(
    db_url: str, db: Database, tmp_path: Path
) -> None:
    from footfall.agent.synthetic import zone_scenario

    site = make_site(db)
    render(zone_scenario(), tmp_path / "zone.avi")
    start = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="seconds")
    server = ServerProcess(db_url)
    (tmp_path / "agent.yaml").write_text(f"""
server: {server.url}
token: {site.ingest_token}
channels:
  - id: cam-zone
    source: zone.avi
    start_time: {start}
    detector: people  # the rendered figures are drawn shapes, found by motion and HOG
    loop: true
    triggers:
      - {{id: t-zone, type: Zone, polygon: [[100, 200], [500, 200], [500, 560], [100, 560]]}}
""")
    try:
        server.start()
        with subprocess.Popen(
            [sys.executable, "-m", "footfall", "agent", "--config", "agent.yaml"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as agent:
            wait_for(lambda: stored(db) > 0)
            agent.terminate()  # a looping source runs until stopped
            out, err = agent.communicate(timeout=120)
        assert agent.returncode == 0, err
    finally:
        server.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "agent-spool.db") as spool:
        assert spool.execute("SELECT count(*) FROM spool").fetchone()[0] == 0
    assert "events acknowledged" in out
    assert stored(db) > 0
