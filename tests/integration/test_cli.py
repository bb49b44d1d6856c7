"""The management commands of the README's command line, on both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.sealing import API_KEY_SECRET
from footfall.services.management import hash_token
from footfall.store.db import Database
from footfall.store.migrate import head_revision
from footfall.store.schema import api_keys, locations, token_lookup

runner = CliRunner()


def cli(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_init_is_idempotent(db_url: str) -> None:
    first = cli("init", "--db", db_url)
    second = cli("init", "--db", db_url)
    assert first == second == {"database": db_url, "schema_version": head_revision()}


def test_accounts_keys_locations(db_url: str, db: Database) -> None:
    account = cli("accounts", "create", "Acme Retail", "--db", db_url)
    assert account == {"id": account["id"], "name": "Acme Retail"}
    key = cli("keys", "create", "--account", str(account["id"]), "--db", db_url)
    assert set(key) == {"public_key", "secret", "account_id"}
    assert key["account_id"] == account["id"]
    assert len(key["secret"]) >= 40
    location = cli(
        "locations",
        "create",
        "--account",
        str(account["id"]),
        "--name",
        "Manhattan store",
        "--timezone",
        "America/New_York",
        "--db",
        db_url,
    )
    assert set(location) == {"id", "name", "hash", "ingest_token"}
    with db.read() as conn:
        stored = conn.execute(select(locations)).one()
        lookup = conn.execute(select(token_lookup)).one()
        secret_row = conn.execute(select(api_keys.c.secret)).scalar_one()
    # The ingest token is stored only as its hash (in the token lookup, naming the location).
    assert (lookup.token_hash, lookup.kind, lookup.location_id) == (
        hash_token(location["ingest_token"]),
        "ingest",
        location["id"],
    )
    assert location["ingest_token"] not in str(tuple(stored)) + str(tuple(lookup))
    # The API secret is sealed with the server key: not in clear, yet recoverable.
    assert key["secret"] not in secret_row
    assert db.unseal(secret_row, API_KEY_SECRET) == key["secret"]

    assert cli("accounts", "list", "--db", db_url) == {"accounts": [account]}
    listed = cli("locations", "list", "--db", db_url)["locations"]
    assert [(x["id"], x["name"], x["timezone"]) for x in listed] == [
        (location["id"], "Manhattan store", "America/New_York")
    ]
    keys = cli("keys", "list", "--db", db_url)["keys"]
    assert [(k["public_key"], k["revoked"]) for k in keys] == [(key["public_key"], False)]
    assert cli("keys", "revoke", key["public_key"], "--db", db_url) == {
        "public_key": key["public_key"],
        "revoked": True,
    }
    keys = cli("keys", "list", "--db", db_url)["keys"]
    assert [k["revoked"] for k in keys] == [True]


def test_readable_tables_without_json(db_url: str) -> None:
    cli("accounts", "create", "Acme", "--db", db_url)
    result = runner.invoke(app, ["accounts", "list", "--db", db_url])
    assert result.exit_code == 0
    assert "Acme" in result.stdout
    assert "name" in result.stdout


def test_errors_are_one_line_on_stderr_with_nonzero_exit(db_url: str, tmp_path: Any) -> None:
    env = {**os.environ, "FOOTFALL_DATABASE_URL": db_url}
    cases = [
        (["keys", "create", "--account", "999"], "no account 999"),
        (["keys", "revoke", "nope"], "no API key 'nope'"),
        (
            ["locations", "create", "--account", "1", "--name", "x", "--timezone", "Mars/Base"],
            "not a time zone",
        ),
        (["accounts", "list", "--db", "mysql://x"], "unsupported database URL"),
        (
            ["accounts", "list", "--db", f"sqlite:///{tmp_path}/empty.db"],
            "run `footfall init` first",
        ),
    ]
    for args, words in cases:
        done = subprocess.run(
            [sys.executable, "-m", "footfall", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert words in lines[0], lines[0]
