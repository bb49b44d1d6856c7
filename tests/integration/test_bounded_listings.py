"""Pages and endpoints that list a location's channels stay bounded, on both engines: a
location at the channel limit, and one holding far more channels than any statement
could name one by one (a database from before the limits), answer at once and in full
where the contract says so (docs/operations.md, Limits; docs/api.md, Coverage)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert

from footfall.config import Settings
from footfall.domain.times import now_ms
from footfall.services import dashboard
from footfall.store.db import Database
from footfall.store.schema import channels, triggers
from tests.conftest import RunningServer, Site
from tests.helpers import (
    TEST_RETENTION_DAYS,
    Signer,
    bearer,
    heartbeats,
    ok,
    post_heartbeats,
    recent,
)

ADMIN = "an-operator-token-of-32-characters"
AT_LIMIT = 1000  # the default FOOTFALL_MAX_CHANNELS
# More channels than PostgreSQL takes parameters in one statement (65,535).
LEGACY = 70_000


def _at_limit_config() -> dict[str, Any]:
    return {
        "version": "1",
        "channels": [
            {
                "id": f"cam-{c:04d}",
                "triggers": [
                    {"id": f"cam-{c:04d}-line", "name": "Enter", "type": "Line"},
                    {"id": f"cam-{c:04d}-zone", "type": "Zone"},
                ],
            }
            for c in range(AT_LIMIT)
        ],
    }


def _server(db_url: str, db: Database) -> RunningServer:
    settings = Settings(
        database_url=db_url,
        rate_limit=0,
        retention_days=TEST_RETENTION_DAYS,
        admin_token=ADMIN,
    )
    return RunningServer(settings, db)


def test_a_location_at_the_channel_limit_lists_and_renders_bounded(
    db_url: str, db: Database, site: Site
) -> None:
    with _server(db_url, db) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        answer = http.put(
            "/ingest/v1/config", json=_at_limit_config(), headers=bearer(site.ingest_token)
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["channels"] == AT_LIMIT
        start = recent(150)
        beats = [
            beat
            for c in range(AT_LIMIT)
            for beat in heartbeats(f"cam-{c:04d}", start, start + timedelta(minutes=5), every_s=60)
        ]
        assert post_heartbeats(http, site.ingest_token, beats).status_code == 200
        signer = Signer(site.public_key, site.secret)
        listed = ok(signer.get(http, "/channels", f"location_id={site.location_id}"))
        assert len(listed) == AT_LIMIT
        # Without channel_id: every channel, each hour since its first mark (the default
        # day of a location at its limit always answers).
        covered = ok(signer.get(http, "/coverage", f"location_id={site.location_id}"))
        assert {item["channel_id"] for item in covered} == {f"cam-{c:04d}" for c in range(1000)}
        assert http.post("/login", data={"token": ADMIN, "next": "/"}).status_code == 303
        home = http.get("/")
        assert home.status_code == 200
        more = re.search(r'data-more-channels="(\d+)"', home.text)
        assert more is not None
        assert int(more.group(1)) == AT_LIMIT - dashboard.CARD_CHANNELS
        page = http.get(f"/locations/{site.location_id}")
        assert page.status_code == 200
        assert page.text.count('<th scope="row">') <= dashboard.COVERAGE_CHANNELS


def test_far_more_channels_than_parameters_in_a_statement_still_render(
    db_url: str, db: Database, site: Site
) -> None:
    # Undeclared just now: the retention job leaves them alone for the whole test.
    now = now_ms()
    with db.write() as conn:
        conn.execute(
            insert(channels),
            [
                {"location_id": site.location_id, "id": f"old-{c}", "name": f"Old {c}"}
                | {"paid": 0, "active": 0, "inactive_since": now}
                for c in range(LEGACY)
            ],
        )
        conn.execute(
            insert(triggers),
            [
                {"location_id": site.location_id, "id": f"old-{c}-t", "channel_id": f"old-{c}"}
                | {"name": "Enter", "type": "Line", "active": 0, "inactive_since": now}
                for c in range(LEGACY)
            ],
        )
    with _server(db_url, db) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("/login", data={"token": ADMIN, "next": "/"}).status_code == 303
        home = http.get("/")
        assert home.status_code == 200
        assert f'data-more-channels="{LEGACY - dashboard.CARD_CHANNELS}"' in home.text
        assert len(home.content) < 200_000
        page = http.get(f"/locations/{site.location_id}")
        assert page.status_code == 200, page.text[:500]
        assert len(page.content) < 500_000
        signer = Signer(site.public_key, site.secret)
        covered = signer.get(http, "/coverage", f"location_id={site.location_id}")
        assert ok(covered) == []  # none of them was ever watched
