"""The agent against a real server when some events are refused (docs/api.md, The ingest API): an
edge device whose clock reset to 1970, or an event for a trigger the config no longer has,
must not block the queue. The refused events move to the spool's dead letters (with the
server's reasons, listed by `footfall agent --dead-letters`); every other event is stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.store.db import Database
from footfall.store.schema import events
from footfall.uplink.sender import Sender
from footfall.uplink.spool import Spool
from tests.conftest import RunningServer, Site
from tests.helpers import STORE_CONFIG, event

pytestmark = pytest.mark.slow

REFUSED_AT = 1_796_000_000_000


def stored_record_ids(db: Database) -> list[int]:
    with db.read() as conn:
        return sorted(conn.execute(select(events.c.record_id)).scalars())


def test_refused_events_go_to_the_dead_letters_and_the_rest_are_stored(
    db: Database, site: Site, server: RunningServer, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool.db")
    spool.add(
        [
            event(1),
            event(2, when="1970-01-01T00:00:00.000Z"),  # the camera's clock reset
            event(3),
            event(4, trigger="t-gone"),  # a trigger the config does not have
            event(5),
        ]
    )
    sender = Sender(server.url, site.ingest_token, spool, STORE_CONFIG, clock=lambda: REFUSED_AT)
    try:
        sender.stop.set()  # send what is spooled, then return
        sender.run()
    finally:
        sender.close()
    assert stored_record_ids(db) == [1, 3, 5]
    assert sender.sent == 3
    assert sender.dead == 2
    assert spool.pending() == 0
    letters = spool.dead_letters()
    spool.close()
    assert [letter.record_id for letter in letters] == [2, 4]
    assert letters[0].event["event_time"] == "1970-01-01T00:00:00.000Z"
    assert "event_time" in letters[0].reason
    assert "retention" in letters[0].reason
    assert "trigger_id" in letters[1].reason
    assert {letter.refused_at for letter in letters} == {REFUSED_AT}

    (tmp_path / "agent.yaml").write_text(
        f"server: {server.url}\ntoken: {site.ingest_token}\nspool: spool.db\n"
        "channels:\n  - {id: cam-1, name: Lobby, source: door.avi, triggers: []}\n"
    )
    runner = CliRunner()
    listed = runner.invoke(
        app, ["agent", "--config", str(tmp_path / "agent.yaml"), "--dead-letters", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["dead_letters"]
    assert [(r["record_id"], r["trigger_id"]) for r in rows] == [(2, "t-enter"), (4, "t-gone")]
    assert rows[0]["event_time"] == "1970-01-01T00:00:00.000Z"
    assert rows[0]["refused_at"] == "2026-11-30T00:53:20.000+00:00"
    table = runner.invoke(
        app, ["agent", "--config", str(tmp_path / "agent.yaml"), "--dead-letters"]
    )
    assert table.exit_code == 0, table.output
    assert "t-gone" in table.stdout
