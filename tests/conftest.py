"""Fixtures shared by every test: a fresh database per test on each engine, a site in it,
and a real HTTP server on loopback.

Every test that takes `db_url` runs twice: on SQLite (a file in the test's tmp dir) and
on PostgreSQL (a new database on the server named by FOOTFALL_TEST_DATABASE_URL, created
from a migrated template and dropped afterwards). Without that variable the PostgreSQL
half is skipped, saying how to enable it; CI always sets it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.services import management
from footfall.store.db import Database
from footfall.store.migrate import upgrade
from footfall.store.secret_key import ENV as SECRET_KEY_ENV
from tests import helpers

# tests.needs: skip locally, fail under CI=1, when a tool or input is missing.
pytest_plugins = ("tests.needs",)

PG_ENV = "FOOTFALL_TEST_DATABASE_URL"
# PostgreSQL deployments must set FOOTFALL_SECRET_KEY; SQLite ones use the key file that
# `footfall init` (store.migrate.upgrade) creates beside the database.
PG_SECRET_KEY = "dGVzdHMtb25seS1rZXktZm9yLXBvc3RncmVzcWwtMDE="
ENGINES = ["sqlite", "postgresql"]
# Tests pin their events to fixed dates across seasons (EDT and EST, DST days), so the
# servers they start keep raw events for ten years; retention itself is tested with the
# default period (tests/integration/test_retention.py).
TEST_RETENTION_DAYS = helpers.TEST_RETENTION_DAYS


def _admin_conninfo() -> str:
    url = os.environ[PG_ENV]
    return url.replace("postgresql+psycopg://", "postgresql://")


def _pg_url_for(database: str) -> str:
    base, _, _ = _admin_conninfo().rpartition("/")
    return f"{base}/{database}"


@contextmanager
def new_pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database on the test server (a copy of `template`, else empty), dropped after."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield _pg_url_for(name)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "footfall.db"
    db = Database(f"sqlite:///{path}", secret_key="")  # "": the key file, whatever the env
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db")
    with new_pg_database("footfall_tpl") as url:
        db = Database(url)
        upgrade(db)
        db.dispose()
        yield url.rpartition("/")[2]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A freshly migrated, empty database of the engine under test, with its secrets' key
    where a deployment keeps it (a key file beside SQLite, the variable for PostgreSQL)."""
    if engine == "sqlite":
        monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "footfall.db"
        shutil.copyfile(template, path)
        shutil.copyfile(f"{template}.key", f"{path}.key")
        os.chmod(f"{path}.key", 0o600)
        yield f"sqlite:///{path}"
        return
    monkeypatch.setenv(SECRET_KEY_ENV, PG_SECRET_KEY)
    template_name: str = request.getfixturevalue("pg_template")
    with new_pg_database("footfall_test", template_name) as url:
        yield url


@pytest.fixture
def blank_pg_url() -> Iterator[str]:
    """A new PostgreSQL database with no schema yet (skipped, saying how, without one)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db")
    with new_pg_database("footfall_blank") as url:
        yield url


@pytest.fixture
def blank_url(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty database of the engine under test (no schema yet); on SQLite with no
    FOOTFALL_SECRET_KEY, so its key file is used."""
    if engine == "sqlite":
        monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("blank_pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@dataclass(frozen=True)
class Site:
    """An account with one location and one API key."""

    account_id: int
    location_id: int
    timezone: str
    ingest_token: str
    public_key: str
    secret: str


def make_site(db: Database, timezone: str = "UTC", name: str = "Store") -> Site:
    account = management.create_account(db, f"{name} account")
    issued = management.create_location(db, account_id=account.id, name=name, timezone=timezone)
    key = management.create_key(db, account.id)
    return Site(
        account.id, issued.location.id, timezone, issued.ingest_token, key.public_key, key.secret
    )


@pytest.fixture
def site(db: Database) -> Site:
    return make_site(db)


class RunningServer:
    """`create_app` served by uvicorn in a thread, on a free loopback port."""

    def __init__(
        self, settings: Settings, db: Database | None = None, clock: Callable[[], int] | None = None
    ) -> None:
        app = (
            create_app(settings, db=db)
            if clock is None
            else create_app(settings, db=db, clock=clock)
        )
        config = uvicorn.Config(  # X-Forwarded-For is the app's (FOOTFALL_FORWARDED_ALLOW_IPS)
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        sockets = self.server.servers[0].sockets
        port = sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, rate_limit=0, retention_days=TEST_RETENTION_DAYS)


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[RunningServer]:
    with RunningServer(settings, db) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
