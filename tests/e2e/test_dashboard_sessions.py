"""Dashboard sessions are random server-side ids (docs/security.md), over real HTTP on both
engines: two sign-ins get two sessions, signing out ends one at once, a new operator
token ends them all, and a session lasts 12 hours. The clock is injected: no sleeps."""

from __future__ import annotations

import re

import httpx
import pytest

from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

ADMIN = "an-operator-token-of-32-characters"
NEW_ADMIN = "the-rotated-operator-token-of-40-chars!!"


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def sign_in(client: httpx.Client) -> httpx.Client:
    answer = client.post("/login", data={"token": ADMIN, "next": "/keys"})
    assert answer.status_code == 303
    return client


def browser(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def opens_keys(client: httpx.Client) -> bool:
    answer = client.get("/keys")
    assert answer.status_code in (200, 303)
    return answer.status_code == 200


def csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/keys").text)
    assert found is not None
    return found.group(1)


def test_two_sign_ins_get_two_sessions_and_sign_out_ends_one(db_url: str, db: Database) -> None:
    clock = Clock()  # both sign-ins in the same millisecond
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with (
        RunningServer(settings, db, clock=clock) as server,
        browser(server) as first,
        browser(server) as second,
    ):
        sign_in(first)
        sign_in(second)
        cookie = first.cookies["footfall_session"]
        assert cookie != second.cookies["footfall_session"]
        assert len(cookie) >= 43  # 256 random bits
        assert opens_keys(first)
        assert opens_keys(second)
        out = first.post("/logout", data={"csrf": csrf(first)})
        assert out.status_code == 303
        # The old cookie, replayed by whoever kept it, opens nothing now.
        with httpx.Client(base_url=server.url) as thief:
            thief.cookies.set("footfall_session", cookie)
            refused = thief.get("/keys")
            assert refused.status_code == 303
            assert refused.headers["location"].startswith("/login")
            assert thief.get("/dashboard/live/1").status_code == 401
        assert opens_keys(second)  # the other session goes on


def test_a_new_operator_token_ends_every_session(db_url: str, db: Database) -> None:
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with RunningServer(settings, db) as server, browser(server) as client:
        assert opens_keys(sign_in(client))
        cookie = client.cookies["footfall_session"]
    rotated = Settings(database_url=db_url, rate_limit=0, admin_token=NEW_ADMIN)
    with (
        RunningServer(rotated, db) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        http.cookies.set("footfall_session", cookie)
        assert http.get("/keys").status_code == 303


def test_a_session_lasts_twelve_hours(db_url: str, db: Database) -> None:
    clock = Clock()
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with RunningServer(settings, db, clock=clock) as server, browser(server) as client:
        sign_in(client)
        clock.ms += 12 * 3600 * 1000 - 1
        assert opens_keys(client)
        clock.ms += 1
        assert not opens_keys(client)


def test_forged_and_malformed_cookies_open_nothing(db_url: str, db: Database) -> None:
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        for forged in (b"1800000000.abcdef", b"x" * 5000, b"\xc3\xa9", b"", b"a.b.c"):
            answer = http.get("/keys", headers={b"cookie": b"footfall_session=" + forged})
            assert answer.status_code == 303, forged
