"""The server key is checked against the database at start (docs/security.md), on both
engines: a wrong key (a restored backup, a mistyped FOOTFALL_SECRET_KEY) stops `footfall
serve` and the app with one line saying what to do; a database without a check value
gets one at its first start when every secret opens, and is refused when they do not; a
rotation moves the check value with the secrets; a key file others may read is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.domain.sealing import new_key_text
from footfall.services import management
from footfall.services.key_check import WrongKey, verify_server_key
from footfall.services.key_rotation import rotate_secrets
from footfall.store import key_check
from footfall.store.db import Database
from footfall.store.schema import server_key_check
from footfall.store.secret_key import ENV, SecretKeyError, keyring_from, write_key_file
from tests.conftest import Site

REFUSAL = "is not the key this database's secrets are sealed with"


def stored_check(db: Database) -> str | None:
    with db.read() as conn:
        return key_check.read_check(conn)


def swap_key(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Another valid key where the deployment keeps its key; a fresh handle using it."""
    if db.is_sqlite:
        assert db.key_file is not None
        write_key_file(db.key_file, new_key_text(), exclusive=False)
    else:
        monkeypatch.setenv(ENV, new_key_text())
    return Database(db.url)


def serve(db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "footfall", "serve", "--port", "0", "--db", db_url],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_wrong_key_stops_serve_and_the_app_with_one_line(
    db_url: str, db: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify_server_key(db)  # the first start writes the check value
    assert stored_check(db) is not None
    wrong = swap_key(db, monkeypatch)
    try:
        with pytest.raises(WrongKey, match=REFUSAL):
            create_app(Settings(database_url=db_url), db=wrong, background=False)
    finally:
        wrong.dispose()
    refused = serve(db_url)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert REFUSAL in lines[0]
    assert ENV in lines[0]  # what to do


def test_a_database_without_a_check_value_gets_one_only_if_its_secrets_open(
    db_url: str, db: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    management.create_key(db, site.account_id)
    assert stored_check(db) is None  # made before any start
    original = db.key_file.read_text() if db.key_file else os.environ[ENV]
    wrong = swap_key(db, monkeypatch)
    try:
        with pytest.raises(WrongKey, match=REFUSAL):
            verify_server_key(wrong)
        assert stored_check(db) is None  # nothing written under the wrong key
    finally:
        wrong.dispose()
    if db.key_file:  # the right key back where the deployment keeps it
        write_key_file(db.key_file, original.strip(), exclusive=False)
    else:
        monkeypatch.setenv(ENV, original)
    right = Database(db_url)
    try:
        verify_server_key(right)
        check = stored_check(right)
        assert check is not None
        assert check.startswith(f"fse1.{right.keyring.primary_id}.")
    finally:
        right.dispose()


def test_the_first_start_writes_the_check_and_later_starts_use_it(
    db_url: str, db: Database, site: Site
) -> None:
    verify_server_key(db)
    first = stored_check(db)
    assert first is not None
    assert first.startswith(f"fse1.{db.keyring.primary_id}.")
    verify_server_key(db)  # a second start (or a second process) changes nothing
    assert stored_check(db) == first


def test_a_rotation_moves_the_check_value_with_the_secrets(
    db_url: str, db: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify_server_key(db)
    old_key = db.key_file.read_text().strip() if db.key_file else os.environ[ENV]
    if not db.is_sqlite:  # the new key first, the old one after it
        monkeypatch.setenv(ENV, f"{new_key_text()},{old_key}")
    rotator = Database(db_url)
    try:
        rotation = rotate_secrets(rotator)
    finally:
        rotator.dispose()
    check = stored_check(db)
    assert check is not None
    assert check.startswith(f"fse1.{rotation.key_id}.")
    stale = Database(db_url, secret_key=old_key)  # the old key alone is the wrong key now
    fresh = Database(db_url)  # the new key (first in the variable), or the key file
    try:
        with pytest.raises(WrongKey, match=REFUSAL):
            verify_server_key(stale)
        verify_server_key(fresh)
    finally:
        stale.dispose()
        fresh.dispose()


def test_a_wrong_key_with_the_check_row_gone_is_still_refused(
    db_url: str, db: Database, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting the check value does not let a wrong key in: the secrets are checked."""
    verify_server_key(db)
    with db.write() as conn:
        conn.execute(delete(server_key_check))
    wrong = swap_key(db, monkeypatch)
    try:
        with pytest.raises(WrongKey, match=REFUSAL):
            verify_server_key(wrong)
    finally:
        wrong.dispose()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "footfall.db.key"
    write_key_file(key_file, new_key_text(), exclusive=True)
    keyring_from(None, key_file)  # 0600 as made
    key_file.chmod(mode)
    with pytest.raises(SecretKeyError, match=rf"mode 0{mode:o}.*chmod 600 {key_file}"):
        keyring_from(None, key_file)
