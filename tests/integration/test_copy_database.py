"""`footfall copy-database`: an installation grown on SQLite moves to PostgreSQL whole —
every row and id, secrets re-sealed under the new key — and everything its users hold
(API keys, ingest tokens, feed URLs, paging positions) keeps working there."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.config import Settings
from footfall.domain.sealing import new_key_text
from footfall.services import feeds, occupancy, webhooks
from footfall.services.analytics import compute_histograms
from footfall.services.key_rotation import SEALED_COLUMNS
from footfall.store.db import Database
from footfall.store.schema import id_counters, metadata
from footfall.store.secret_key import ENV as SECRET_KEY_ENV
from tests.conftest import RunningServer, make_site
from tests.helpers import Signer, event, ingest_directly, ok, post_events


@pytest.fixture
def sqlite_source(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "footfall.db"
    shutil.copyfile(sqlite_template, path)
    shutil.copyfile(f"{sqlite_template}.key", f"{path}.key")
    os.chmod(f"{path}.key", 0o600)
    return f"sqlite:///{path}"


def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, secrets opened: what the copy must keep."""
    sealed = {table.name for table, _ in SEALED_COLUMNS}
    purposes = {table.name: purpose for table, purpose in SEALED_COLUMNS}
    out: dict[str, list[dict[str, Any]]] = {}
    with db.read() as conn:
        for table in metadata.sorted_tables:
            if table is id_counters:
                continue
            rows = [
                dict(r._mapping)
                for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            if table.name in sealed:
                for row in rows:
                    row["secret"] = db.unseal(row["secret"], purposes[table.name])
            out[table.name] = rows
    return out


def test_an_sqlite_installation_moves_to_postgresql_whole(
    sqlite_source: str, blank_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    source = Database(sqlite_source)
    site = make_site(source, timezone="Europe/Paris")
    batch = [
        event(n, when=f"2026-11-{20 + n % 3}T1{n % 10}:15:00+01:00") for n in range(1, 40)
    ] + [
        event(100 + n, trigger="t-shelf", event_type="RegionJoin" if n % 2 else "RegionLeave",
              when=f"2026-11-21T10:{n:02d}:00+01:00", object_id=n // 2)
        for n in range(1, 30)
    ]  # fmt: skip
    endpoint = webhooks.create_endpoint(
        source, allow_private=True, location_id=site.location_id, url="http://127.0.0.1:9/h"
    )
    ingest_directly(source, site.location_id, batch)
    compute_histograms(source)
    occupancy.create_counter(
        source, location_id=site.location_id, name="Shop", enter=("t-enter",), exit_=("t-exit",)
    )
    feed = feeds.create_feed(source, location_id=site.location_id, name="Daily", metric="count")
    before = _rows(source)
    source.dispose()

    # The target's own key: PostgreSQL deployments set FOOTFALL_SECRET_KEY.
    monkeypatch.setenv(SECRET_KEY_ENV, new_key_text())
    done = CliRunner().invoke(
        app, ["copy-database", "--db", sqlite_source, "--to", blank_pg_url, "--json"]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["rows"]["events"] == len(batch)

    target = Database(blank_pg_url)
    try:
        assert _rows(target) == before  # every row, every id; secrets the same once opened
        with target.read() as conn:  # sealed under the target's key, not the file's
            sealed = conn.execute(select(SEALED_COLUMNS[0][0].c.secret)).scalars().all()
        assert all(target.keyring.unseal(v, SEALED_COLUMNS[0][1]) for v in sealed)

        again = CliRunner().invoke(
            app, ["copy-database", "--db", sqlite_source, "--to", blank_pg_url]
        )
        assert again.exit_code != 0
        assert "already holds data" in again.output

        settings = Settings(database_url=blank_pg_url, rate_limit=0)
        with (
            RunningServer(settings, target) as server,
            httpx.Client(base_url=server.url) as http,
        ):
            signer = Signer(site.public_key, site.secret)  # the same key and secret
            stored = ok(signer.get(http, "/events", f"location_id={site.location_id}"))
            assert len(stored) == len(batch)
            last = max(e["id"] for e in stored)
            histograms = ok(signer.get(http, "/histograms"))
            assert len(histograms) == len(before["histograms"])
            resent = ok(post_events(http, site.ingest_token, batch[:5]))  # the same token
            assert (resent["accepted"], resent["duplicates"]) == (0, 5)
            fresh = ok(post_events(http, site.ingest_token, [event(999)]))
            assert fresh["accepted"] == 1
            newest = ok(signer.get(http, "/events", f"after_id={last}"))
            assert [e["record_id"] for e in newest] == [999]  # ids go on past the copied ones
            assert http.get(f"/feed/report/{feed.token}").status_code == 200
        other = make_site(target, name="After the move")  # serial ids advanced too
        assert other.location_id > site.location_id
        assert endpoint.id in {e.id for e in webhooks.list_endpoints(target)}
    finally:
        target.dispose()
