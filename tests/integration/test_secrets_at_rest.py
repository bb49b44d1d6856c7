"""Secrets at rest, on both engines: API and webhook secrets sealed with the server key,
feed tokens hashed; nothing of them in the database file or a dump of every table;
`footfall secrets rotate` keeps every signature verifiable; the migration converts an
existing database; a missing key is a clear error."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import select, text
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.domain.sealing import API_KEY_SECRET, WEBHOOK_SECRET, new_key_text, parse_key
from footfall.services import feeds, management, webhooks
from footfall.services.read_auth import AuthFailure, authenticate_request
from footfall.store.db import Database
from footfall.store.migrate import _config, upgrade
from footfall.store.schema import api_keys, webhook_endpoints
from footfall.store.schema import feeds as feeds_table
from footfall.store.secret_key import ENV
from tests.conftest import Site
from tests.helpers import Signer, ingest_directly

runner = CliRunner()
NONCES = itertools.count(1)


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored_bytes(db: Database, db_url: str) -> bytes:
    """Everything the database holds, as an attacker with a copy would read it: the SQLite
    file and its WAL; on PostgreSQL every table COPYed out, and pg_dump when installed."""
    if db.is_sqlite:
        path = Path(db_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    out = bytearray()
    conninfo = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert "api_keys" in tables
        with conn.cursor() as cursor:
            for table in tables:
                # A query, not the table: the partitioned `events` refuses `COPY events TO`.
                with cursor.copy(f'COPY (SELECT * FROM "{table}") TO STDOUT') as copy:
                    for chunk in copy:
                        out += bytes(chunk)
    dump = shutil.which("pg_dump")
    if dump is not None:
        done = subprocess.run([dump, conninfo], capture_output=True, timeout=120, check=False)
        if done.returncode == 0:  # a pg_dump of another major version refuses: COPY suffices
            out += done.stdout
    return bytes(out)


def make_secrets(db: Database, site: Site) -> tuple[list[str], list[str], list[str]]:
    """API secrets, webhook secrets and feed tokens, as their users received them."""
    ingest_directly(db, site.location_id)
    api = [site.secret, management.create_key(db, site.account_id).secret]
    hooks = [
        webhooks.create_endpoint(
            db,
            location_id=site.location_id,
            url=f"https://hooks{n}.example.com/in",
            resolver=lambda _h, _p: ["93.184.215.14"],
        ).secret
        for n in range(2)
    ]
    tokens = [
        feeds.create_feed(db, location_id=site.location_id, name=f"F{n}", metric="count").token
        for n in range(2)
    ]
    return api, hooks, tokens


def secret_forms(value: str) -> list[bytes]:
    """The value and, for a webhook secret, its key part: neither may be stored."""
    forms = [value.encode()]
    if value.startswith("whsec_"):
        forms.append(value.removeprefix("whsec_").encode())
    return forms


def test_the_database_holds_no_secret_in_clear(db_url: str, db: Database, site: Site) -> None:
    api, hooks, tokens = make_secrets(db, site)
    dumped = stored_bytes(db, db_url)
    assert b"api_keys" in dumped or db.is_sqlite  # the read really covered the tables
    for value in [*api, *hooks, *tokens]:
        for form in secret_forms(value):
            assert form not in dumped, value
    with db.read() as conn:
        sealed = conn.execute(select(api_keys.c.secret)).scalars().all()
        hook_rows = conn.execute(select(webhook_endpoints.c.secret)).scalars().all()
        feed_rows = conn.execute(select(feeds_table.c.token_prefix)).scalars().all()
    assert all(s.startswith("fse1.") for s in [*sealed, *hook_rows])
    assert sorted(db.unseal(s, API_KEY_SECRET) for s in sealed) == sorted(api)
    assert sorted(db.unseal(s, WEBHOOK_SECRET) for s in hook_rows) == sorted(hooks)
    assert sorted(feed_rows) == sorted(t[:8] for t in tokens)
    # A sealed value opens only in its own column (it cannot be moved elsewhere).
    with pytest.raises(ValueError, match="does not open"):
        db.keyring.unseal(sealed[0], WEBHOOK_SECRET)
    if db.is_sqlite:
        key_file = db.key_file
        assert key_file is not None
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_bytes().strip() not in dumped


def _verify_everything(db: Database, site: Site, api: list[str], hooks: list[str]) -> None:
    """Every API secret signs a request the server accepts; every webhook secret is the
    one the dispatcher signs with (what a receiver verifies)."""
    with db.read() as conn:
        keys = conn.execute(select(api_keys.c.public_key)).scalars().all()
    accepted, refused = 0, []
    for public_key in keys:
        for secret in api:
            uri = f"/service/api/v1/locations?nonce={next(NONCES)}"
            signature = Signer(public_key, secret).headers(uri)["X-Sign"]
            try:
                authenticate_request(
                    db,
                    public_key=public_key,
                    signature=signature,
                    uri=uri,
                    nonce_text=uri.split("=")[1],
                    rate_limit=0,
                )
                accepted += 1
            except AuthFailure as failure:  # the other key's secret: a wrong signature
                refused.append(failure.code)
    assert accepted == len(keys) == len(api)
    assert set(refused) == {2}
    with db.read() as conn:
        stored = conn.execute(select(webhook_endpoints.c.secret)).scalars().all()
    assert sorted(db.unseal(s, WEBHOOK_SECRET) for s in stored) == sorted(hooks)


def test_rotate_reseals_everything_and_every_signature_still_verifies(
    db_url: str, db: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, hooks, _ = make_secrets(db, site)
    _verify_everything(db, site, api, hooks)
    before = db.keyring.primary_id
    env: dict[str, str] = {}
    if not db.is_sqlite:  # the new key first, the old one after it, on every server
        new = new_key_text()
        monkeypatch.setenv(ENV, f"{new},{os.environ[ENV]}")
        env = {ENV: os.environ[ENV]}
    rotated = cli("secrets", "rotate", "--db", db_url, env=env)
    assert rotated["api_keys"] == 2
    assert rotated["webhook_secrets"] == 2
    assert rotated["key_id"] != before
    with db.read() as conn:
        stored = [
            *conn.execute(select(api_keys.c.secret)).scalars(),
            *conn.execute(select(webhook_endpoints.c.secret)).scalars(),
        ]
    assert all(s.startswith(f"fse1.{rotated['key_id']}.") for s in stored)
    # The running process (its keyring loaded before) and a fresh one both verify.
    _verify_everything(db, site, api, hooks)
    fresh = Database(db_url)
    try:
        _verify_everything(fresh, site, api, hooks)
    finally:
        fresh.dispose()
    if db.is_sqlite:
        key_file = db.key_file
        assert key_file is not None
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert not Path(f"{key_file}.new").exists()
        # The old key is gone: only the new one opens the secrets now.
        assert rotated["key_source"] == str(key_file)
    else:
        # Once rotated, the old key can be dropped from the variable.
        monkeypatch.setenv(ENV, os.environ[ENV].split(",")[0])
        alone = Database(db_url)
        try:
            _verify_everything(alone, site, api, hooks)
        finally:
            alone.dispose()


def test_the_migration_seals_existing_secrets_and_hashes_feed_tokens(
    blank_url: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine == "postgresql":
        monkeypatch.setenv(ENV, new_key_text())
    db = Database(blank_url)
    try:
        config = _config()
        with db.engine.begin() as conn:  # a database of the release before this one
            config.attributes["connection"] = conn
            command.upgrade(config, "0006")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, created_at) VALUES (1, 'A', 0)"))
            conn.execute(
                text(
                    "INSERT INTO locations (id, account_id, name, timezone, hash, "
                    "ingest_token_hash, created_at) VALUES (1, 1, 'L', 'UTC', 'h', 't', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_keys (account_id, public_key, secret, created_at) "
                    "VALUES (1, 'pk-old', 'old-plain-api-secret', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO webhook_endpoints (account_id, location_id, kind, url, secret, "
                    "enabled, created_at) VALUES (1, 1, 'events', 'https://x.example/', "
                    "'whsec_b2xkLXBsYWluLXdlYmhvb2stc2VjcmV0', 1, 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO feeds (account_id, location_id, token, name, metric, triggers, "
                    "occupancy_ids, queue_ids, event_types, origins, period, granularity, "
                    "created_at) VALUES (1, 1, '0123456789abcdef0123456789abcdef', 'F', "
                    "'count', '', '', '', '', '', 'today', 'hour', 0)"
                )
            )
        upgrade(db)  # what `footfall init` runs (creating the SQLite key file first)
        if db.is_sqlite:
            assert db.key_file is not None
            assert stat.S_IMODE(db.key_file.stat().st_mode) == 0o600
        dumped = stored_bytes(db, blank_url)
        for plain in (b"old-plain-api-secret", b"b2xkLXBsYWluLXdlYmhvb2stc2VjcmV0"):
            assert plain not in dumped
        assert b"0123456789abcdef0123456789abcdef" not in dumped
        with db.read() as conn:
            secret = conn.execute(select(api_keys.c.secret)).scalar_one()
            hook = conn.execute(select(webhook_endpoints.c.secret)).scalar_one()
        assert db.unseal(secret, API_KEY_SECRET) == "old-plain-api-secret"
        assert db.unseal(hook, WEBHOOK_SECRET) == "whsec_b2xkLXBsYWluLXdlYmhvb2stc2VjcmV0"
        # The old feed URL still works; the token is found by its hash.
        report = feeds.build_report(db, "0123456789abcdef0123456789abcdef")
        assert report.feed.token_prefix == "01234567"
        upgrade(db)  # idempotent
    finally:
        db.dispose()


def test_missing_or_malformed_keys_are_clear_errors(
    engine: str, blank_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV}

    def footfall(*args: str, extra: dict[str, str] | None = None) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "footfall", *args, "--db", blank_url],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )

    bad = footfall("init", extra={ENV: "too-short"})
    assert bad.returncode == 1
    assert "FOOTFALL_SECRET_KEY: expected 32 random bytes" in bad.stderr
    if engine == "postgresql":
        refused = footfall("init")
        assert refused.returncode == 1
        assert "FOOTFALL_SECRET_KEY is not set: a PostgreSQL deployment must set it" in (
            refused.stderr
        )
        return
    made = footfall("init")
    assert made.returncode == 0, made.stderr
    key_file = Path(blank_url.removeprefix("sqlite:///") + ".key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(parse_key(key_file.read_text())) == 32
    first = key_file.read_text()
    assert footfall("init").returncode == 0
    assert key_file.read_text() == first  # init never replaces a key
    key_file.unlink()
    assert footfall("accounts", "create", "A").returncode == 0
    lost = footfall("keys", "create", "--account", "1")
    assert lost.returncode == 1
    assert f"no secret key: {key_file} does not exist; run `footfall init`" in lost.stderr
