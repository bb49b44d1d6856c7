"""The dashboard as an attacker meets it, over real HTTP on both engines: sign-in throttled
per address (exponential back-off, 429 + Retry-After) and never for everyone, the client
address taken from X-Forwarded-For only from configured proxies, server-side sessions
that sign-out and a new operator token end, bodies capped and decoded strictly (4xx,
never 500), security headers everywhere, Secure cookies behind https, and no dashboard
with a short operator token. The clock is injected: no sleeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall.api.docs_ui import DOCS_CSP
from footfall.config import Settings
from footfall.forwarded import parse_forwarded_allow_ips
from footfall.store.db import Database
from footfall.web.headers import CSP
from tests.conftest import RunningServer, Site

pytestmark = pytest.mark.slow

ADMIN = "an-operator-token-of-32-characters"
WRONG = "x" * 32


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dashboard(db_url: str, db: Database, clock: Clock) -> Iterator[httpx.Client]:
    """Served as behind a proxy on this machine: X-Forwarded-For names the client."""
    settings = Settings(
        database_url=db_url,
        rate_limit=0,
        admin_token=ADMIN,
        forwarded_allow_ips=parse_forwarded_allow_ips("127.0.0.1"),
    )
    with (
        RunningServer(settings, db, clock=clock) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def login(http: httpx.Client, token: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return http.post("/login", data={"token": token, "next": "/keys"}, headers=headers)


def test_sign_in_backs_off_exponentially_per_address(dashboard: httpx.Client, clock: Clock) -> None:
    for _ in range(5):  # free attempts
        assert login(dashboard, WRONG).status_code == 401
    assert login(dashboard, WRONG).status_code == 401  # the 6th failure: wait 1 s
    for wait in (1, 2, 4, 8):
        refused = login(dashboard, ADMIN)  # even the right token is not checked meanwhile
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(wait)
        assert f"wait {wait} s" in refused.text
        assert "footfall_session" not in refused.cookies
        clock.advance(wait)
        assert login(dashboard, WRONG).status_code == 401  # and the wait doubles
    # Another address is not held back by this one's failures.
    assert login(dashboard, ADMIN, address="198.51.100.7").status_code == 303
    clock.advance(16)
    signed_in = login(dashboard, ADMIN)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/keys"
    # Success clears the address's record: five free attempts again.
    for _ in range(5):
        assert login(dashboard, WRONG).status_code == 401
    assert login(dashboard, WRONG).status_code == 401
    assert login(dashboard, WRONG).status_code == 429


def test_guessing_from_many_addresses_never_locks_the_operator_out(
    dashboard: httpx.Client, clock: Clock
) -> None:
    for n in range(200):
        assert login(dashboard, WRONG, address=f"203.0.113.{n}").status_code == 401
    for _ in range(3):  # and one failure a minute keeps nothing shut
        clock.advance(60)
        assert login(dashboard, WRONG, address="203.0.113.250").status_code == 401
    # IPv6 addresses count by their /64: rotating the host part gains nothing.
    for n in range(6):
        assert login(dashboard, WRONG, address=f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert login(dashboard, ADMIN, address="2001:db8:1:2::ffff").status_code == 429
    assert login(dashboard, ADMIN, address="192.0.2.1").status_code == 303  # right at once


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_configured_proxy(
    db_url: str, db: Database, clock: Clock
) -> None:
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with (
        RunningServer(settings, db, clock=clock) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        for n in range(6):  # a new "address" each time: still the one peer
            assert login(http, WRONG, address=f"198.51.100.{n}").status_code == 401
        refused = login(http, ADMIN, address="198.51.100.99")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"


def test_a_proxy_chain_names_the_nearest_untrusted_address(dashboard: httpx.Client) -> None:
    """What a client writes at the left of the chain is not believed: the address the
    configured proxy saw (the right-most untrusted one) is the client."""
    for n in range(6):
        chain = f"10.9.9.{n}, 198.51.100.20"
        assert login(dashboard, WRONG, address=chain).status_code == 401
    assert login(dashboard, ADMIN, address="10.9.9.77, 198.51.100.20").status_code == 429
    assert login(dashboard, ADMIN, address="198.51.100.21").status_code == 303


def test_login_bodies_are_capped_and_decoded_strictly(dashboard: httpx.Client) -> None:
    huge = dashboard.post("/login", content=b"token=" + b"a" * 50_000_000)
    assert huge.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while streaming
        for _ in range(100):
            yield b"a" * 65536

    streamed = dashboard.post(
        "/login",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    for body in (b"token=\xff\xfe", b"token=%FF%FE", b"next=/&token=\xc3"):
        refused = dashboard.post(
            "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert refused.status_code == 400, body
        assert "UTF-8" in refused.text
    many = dashboard.post("/login", content="&".join(f"f{n}=1" for n in range(100)).encode())
    assert many.status_code == 400
    assert login(dashboard, ADMIN).status_code == 303  # none of it counted as a guess


def test_dashboard_forms_are_capped_and_decoded_strictly(dashboard: httpx.Client) -> None:
    assert login(dashboard, ADMIN).status_code == 303
    for path in ("/keys/create", "/feeds/create", "/webhooks/replay", "/logout"):
        big = dashboard.post(path, content=b"csrf=" + b"a" * 100_000)
        assert big.status_code == 413, path
        bad = dashboard.post(path, content=b"csrf=\xff")
        assert bad.status_code == 400, path
        assert "<script" not in bad.text


def test_every_response_carries_the_security_headers(dashboard: httpx.Client, site: Site) -> None:
    assert login(dashboard, ADMIN).status_code == 303
    for path in ("/", "/login", "/keys", "/healthz", "/feed/report/nope", "/assets/live.js"):
        answer = dashboard.get(path)
        assert answer.headers["content-security-policy"] == CSP, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
    api = dashboard.get("/service/api/v1/locations?nonce=1")
    assert api.status_code == 401
    assert api.headers["content-security-policy"] == CSP
    docs = dashboard.get("/docs")  # Swagger UI from this server only: no CDN, no inline script
    assert docs.headers["content-security-policy"] == DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP
    assert "frame-ancestors 'none'" in DOCS_CSP


def test_pages_have_no_inline_script_style_or_handler(dashboard: httpx.Client, site: Site) -> None:
    """What the CSP forbids, the pages never rely on (it would be blocked)."""
    templates = Path(__file__).parents[2] / "src/footfall/web/templates"
    sources = [p.read_text() for p in templates.glob("*.html")]
    assert login(dashboard, ADMIN).status_code == 303
    pages = [
        dashboard.get(p).text
        for p in ("/", f"/locations/{site.location_id}", "/events", "/webhooks", "/feeds", "/keys")
    ]
    for text in [*sources, *pages, dashboard.get("/login").text]:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        assert not re.search(r"\son[a-z]+\s*=", text)
        assert not re.search(r"\sstyle\s*=", text)
        assert "javascript:" not in text


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://footfall.example", True), ("", False)]
)
def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    db_url: str, db: Database, public_url: str, secure: bool
) -> None:
    settings = Settings(
        database_url=db_url, admin_token=ADMIN, public_url=public_url or "http://127.0.0.1:8000"
    )
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        answer = login(http, ADMIN)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert ("Secure" in cookie) is secure


def test_a_short_admin_token_keeps_the_dashboard_off(db_url: str, db: Database) -> None:
    short = "twenty-three-characters"
    assert len(short) == 23
    settings = Settings(database_url=db_url, admin_token=short)
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        home = http.get("/")
        assert home.status_code == 200
        assert "FOOTFALL_ADMIN_TOKEN has 23 characters: it needs at least 24" in home.text
        assert http.post("/login", data={"token": short}).headers["location"] == "/"
        assert http.get("/keys").headers["location"] == "/"
        assert "footfall_session" not in http.cookies
