"""The agent's heartbeats against a real server, on both engines: spooled like
events, delivered after them, forgotten once recorded; one the server refuses is dropped
and does not hold back the others."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from footfall.store.db import Database
from footfall.store.schema import coverage_quarters
from footfall.uplink.sender import Sender
from footfall.uplink.spool import Spool
from tests.conftest import RunningServer, Site
from tests.helpers import STORE_CONFIG, event

pytestmark = pytest.mark.slow

START = int(datetime(2026, 11, 24, 9, tzinfo=UTC).timestamp() * 1000)


def test_spooled_heartbeats_become_coverage(
    db: Database,
    site: Site,
    server: RunningServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spool = Spool(tmp_path / "spool.db")
    for k in range(120):  # 09:00 to 09:59:30, every 30 s: the server was down meanwhile
        spool.add_heartbeat("cam-door", START + k * 30_000, "ok")
    spool.add_heartbeat("cam-gone", START, "ok")  # a channel the config does not have
    spool.add_heartbeat("cam-floor", START + 600_000, "sabotage")
    spool.add([event(1)])
    caplog.set_level(logging.WARNING, logger="footfall.agent")
    sender = Sender(server.url, site.ingest_token, spool, STORE_CONFIG)
    try:
        sender.stop.set()  # deliver what is spooled, then return
        sender.run()
    finally:
        sender.close()
    assert spool.pending() == 0
    assert spool.pending_heartbeats() == 0
    assert sender.beats == 121
    assert "refused 1 heartbeat" in caplog.text
    spool.close()
    with db.read() as conn:
        rows = conn.execute(
            select(coverage_quarters.c.quarter, coverage_quarters.c.covered_s).where(
                coverage_quarters.c.channel_id == "cam-door",
                coverage_quarters.c.quarter >= START,
                coverage_quarters.c.quarter < START + 3_600_000,
            )
        ).all()
    assert [r.covered_s for r in rows] == [900] * 4
