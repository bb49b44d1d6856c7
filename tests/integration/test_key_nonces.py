"""A key's last nonce (docs/api.md, Nonces), on both engines over real HTTP: a client
counting in seconds after one counting in microseconds is refused with a message naming
the last accepted nonce and the ways out; `footfall keys reset-nonce` and the dashboard's
button clear it, each recorded in the key's audit trail with who and when."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import RunningServer, Site
from tests.helpers import Signer, ok

runner = CliRunner()
ADMIN = "operator-token-for-nonce-tests"


def cli(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_seconds_client_after_a_microseconds_one_and_the_reset(
    db_url: str, db: Database, site: Site
) -> None:
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        micros = Signer(site.public_key, site.secret, start_nonce=time.time_ns() // 1000)
        ok(micros.get(http, "/locations"))
        last = micros.nonce
        seconds = Signer(site.public_key, site.secret, start_nonce=int(time.time()))
        refused = seconds.get(http, "/locations")
        assert refused.status_code == 401
        body = refused.json()
        assert body["code"] == 3
        assert f"not greater than {last}, the last nonce accepted" in body["msg"]
        assert "microseconds" in body["msg"]
        assert f"footfall keys reset-nonce {site.public_key}" in body["msg"]
        assert "its own key" in body["msg"]

        done = cli("keys", "reset-nonce", site.public_key, "--by", "alice", "--db", db_url)
        assert done["nonce_before"] == last
        assert done["by"] == "alice"
        ok(seconds.get(http, "/locations"))  # seconds work now

        # The dashboard's button does the same, recorded with the name given.
        assert http.post("/login", data={"token": ADMIN, "next": "/keys"}).status_code == 303
        page = http.get("/keys")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        assert "Clear nonce" in page.text
        cleared = http.post(
            "/keys/reset-nonce",
            data={"csrf": csrf.group(1), "public_key": site.public_key, "by": "bob"},
        )
        assert cleared.status_code == 303
        assert "cleared" in http.get(cleared.headers["location"]).text
        ok(Signer(site.public_key, site.secret, start_nonce=0).get(http, "/locations"))

    audit = cli("keys", "reset-nonce", site.public_key, "--audit", "--db", db_url)["audit"]
    assert [(a["kind"], a["by"]) for a in audit] == [
        ("nonce_reset", "bob"),
        ("nonce_reset", "alice"),
    ]
    assert audit[1]["nonce_before"] == last
    assert audit[0]["nonce_before"] == seconds.nonce
    unknown = runner.invoke(app, ["keys", "reset-nonce", "nope", "--db", db_url])
    assert unknown.exit_code != 0
