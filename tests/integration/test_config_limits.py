"""Per-location limits on what a config declares, and the time zone it names, over real
HTTP on both engines (docs/operations.md, Limits; docs/api.md, PUT /ingest/v1/config)."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from footfall.config import Settings
from footfall.domain.agent_config import ConfigLimits
from footfall.services.undeclared import prune_location
from footfall.store.db import Database
from footfall.store.schema import channels, events, locations
from tests.conftest import RunningServer, Site, make_site
from tests.helpers import STORE_CONFIG, TEST_RETENTION_DAYS, bearer, event, put_config

SMALL = ConfigLimits(max_channels=5, max_triggers_per_channel=3, max_body_bytes=64 * 1024)


def _state(db: Database, location_id: int) -> tuple[int, str, int, int]:
    """(config version, zone, channels known, active channels) of a location."""
    with db.read() as conn:
        version, zone = conn.execute(
            select(locations.c.config_version, locations.c.timezone).where(
                locations.c.id == location_id
            )
        ).one()
        known, active = conn.execute(
            select(func.count(), func.coalesce(func.sum(channels.c.active), 0)).where(
                channels.c.location_id == location_id
            )
        ).one()
    return int(version), str(zone), int(known), int(active)


def _refused(answer: httpx.Response, field: str, *words: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == 4
    assert "nothing was changed" in body["msg"]
    [problem] = [p for p in body["result"] if p["field"] == field]
    for word in words:
        assert word in problem["message"], problem["message"]
    return body


def _channels(count: int, *, prefix: str = "cam", triggers: int = 1) -> dict[str, Any]:
    return {
        "version": "1",
        "channels": [
            {
                "id": f"{prefix}-{c}",
                "triggers": [{"id": f"{prefix}-{c}-t{t}", "type": "Line"} for t in range(triggers)],
            }
            for c in range(count)
        ],
    }


def test_the_150000_channel_config_is_refused_before_it_is_read_and_others_ingest(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    other = make_site(db, name="Neighbour")
    put_config(http, other.ingest_token)
    before = _state(db, site.location_id)
    huge = json.dumps(_channels(150_000, triggers=0)).encode()
    assert len(huge) > 5_000_000
    answers: dict[str, httpx.Response] = {}

    def send_huge() -> None:
        answers["huge"] = http.put(
            "/ingest/v1/config",
            content=huge,
            headers={**bearer(site.ingest_token), "Content-Type": "application/json"},
        )

    sender = threading.Thread(target=send_huge)
    sender.start()
    neighbour = http.post(
        "/ingest/v1/events", json=[event(1), event(2)], headers=bearer(other.ingest_token)
    )
    sender.join()
    assert neighbour.status_code == 200, neighbour.text
    assert neighbour.json()["result"] == {"accepted": 2, "duplicates": 0}
    body = _refused(
        answers["huge"], "(body)", str(len(huge)), "2097152", "FOOTFALL_MAX_CONFIG_BYTES"
    )
    assert str(len(huge)) in body["msg"]
    assert _state(db, site.location_id) == before
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 2


@pytest.fixture
def limited(db_url: str, db: Database) -> Any:
    settings = Settings(
        database_url=db_url,
        rate_limit=0,
        retention_days=TEST_RETENTION_DAYS,
        config_limits=SMALL,
    )
    with (
        RunningServer(settings, db) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


def _put(http: httpx.Client, site: Site, config: dict[str, Any]) -> httpx.Response:
    return http.put("/ingest/v1/config", json=config, headers=bearer(site.ingest_token))


def test_each_limit_is_named_with_its_value_and_field(
    limited: httpx.Client, site: Site, db: Database
) -> None:
    before = _state(db, site.location_id)
    _refused(_put(limited, site, _channels(6)), "channels", "6 channels", "at most 5")
    _refused(
        _put(limited, site, _channels(2, triggers=4)),
        "channels[0].triggers",
        "4 triggers",
        "at most 3",
        "FOOTFALL_MAX_TRIGGERS_PER_CHANNEL",
    )
    padded = {**_channels(1), "version": "x" * 60, "padding": "y" * (SMALL.max_body_bytes)}
    _refused(_put(limited, site, padded), "(body)", "FOOTFALL_MAX_CONFIG_BYTES")
    assert _state(db, site.location_id) == before
    # At the limits, a config is accepted.
    accepted = _put(limited, site, _channels(5, triggers=3))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["result"]["channels"] == 5
    assert accepted.json()["result"]["triggers"] == 15


def test_new_ids_config_after_config_meet_the_limit_until_pruned(
    limited: httpx.Client, site: Site, db: Database
) -> None:
    assert _put(limited, site, _channels(5)).status_code == 200
    before = _state(db, site.location_id)
    # Five new channels: the five undeclared ones still count until they are purged.
    _refused(
        _put(limited, site, _channels(5, prefix="new")),
        "channels",
        "10 channels",
        "FOOTFALL_MAX_CHANNELS",
        "footfall locations prune",
    )
    assert _state(db, site.location_id) == before  # rolled back: the first five active
    assert _put(limited, site, _channels(1)).status_code == 200  # drops four
    prune_location(db, site.location_id)
    assert _put(limited, site, _channels(4, prefix="new")).status_code == 200
    assert _state(db, site.location_id)[2:] == (5, 4)  # cam-0 now undeclared too


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("A" * 256, "at most 64 characters"),
        ("Europe/" + "x" * 300, "at most 64 characters"),
        ("localtime", "IANA tz database"),
        ("posixrules", "IANA tz database"),
        ("/etc/localtime", "IANA tz database"),
        ("../../../etc/passwd", "IANA tz database"),
        ("Europe/../Europe/Paris", "IANA tz database"),
        ("America", "not a time zone"),
        ("Mars/Olympus_Mons", "not a time zone"),
        ("+15:00", "valid UTC offset"),
    ],
)
def test_a_timezone_outside_the_tz_database_is_a_422_naming_the_field(
    http: httpx.Client, site: Site, db: Database, zone: str, words: str
) -> None:
    before = _state(db, site.location_id)
    answer = http.put(
        "/ingest/v1/config",
        json={**STORE_CONFIG, "timezone": zone},
        headers=bearer(site.ingest_token),
    )
    _refused(answer, "timezone", words)
    assert _state(db, site.location_id) == before


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "-03:30"])
def test_tz_database_names_and_offsets_are_accepted(
    http: httpx.Client, site: Site, db: Database, zone: str
) -> None:
    answer = put_config(http, site.ingest_token, {**STORE_CONFIG, "timezone": zone})
    assert answer["result"]["timezone"] == zone
    assert _state(db, site.location_id)[1] == zone


def test_locations_create_refuses_a_zone_outside_the_tz_database(db_url: str) -> None:
    from typer.testing import CliRunner

    from footfall.cli.main import app

    runner = CliRunner()
    account = runner.invoke(app, ["accounts", "create", "Shop", "--db", db_url, "--json"])
    assert account.exit_code == 0, account.output
    account_id = json.loads(account.stdout)["id"]
    for zone in ("localtime", "x" * 300):
        refused = runner.invoke(
            app,
            [
                *("locations", "create", "--account", str(account_id), "--name", "Shop"),
                *("--db", db_url, "--timezone", zone),
            ],
        )
        assert refused.exit_code == 1
        assert "--timezone" in refused.output
        assert "Traceback" not in refused.output
