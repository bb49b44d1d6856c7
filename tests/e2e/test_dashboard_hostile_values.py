"""No id or form value gives a 5xx from the dashboard (docs/security.md): every route is
walked, signed in, with ids no database key can hold, NUL and other control characters,
and non-numbers, over real HTTP on both engines. Bad values get a 4xx naming the field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import RunningServer, Site

pytestmark = pytest.mark.slow

ADMIN = "an-operator-token-of-32-characters"
HUGE = "9223372036854775808"  # 2^63: one past the largest key
HOSTILE_IDS = [HUGE, "99999999999999999999999", "0", "-1", "1e3", "\u0661", "x", "1\x00"]
HOSTILE_TEXT = ["a\x00b", "\x00", "line\nbreak", "\x1b[31m", "z" * 3000]
FORMS: dict[str, list[str]] = {
    "/keys/create": ["account_id"],
    "/keys/revoke": ["public_key"],
    "/feeds/create": ["location_id", "name", "triggers", "metric", "period", "granularity"],
    "/feeds/revoke": ["feed_id"],
    "/webhooks/replay": ["delivery_id"],
    "/occupancy/calibrate": ["counter_id", "location_id", "value", "by"],
}
ID_FIELDS = {"account_id", "location_id", "feed_id", "delivery_id", "counter_id"}


@pytest.fixture
def operator(db_url: str, db: Database, site: Site) -> Iterator[httpx.Client]:
    settings = Settings(database_url=db_url, rate_limit=0, admin_token=ADMIN)
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        assert http.post("/login", data={"token": ADMIN}).status_code == 303
        yield http


def csrf(http: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', http.get("/keys").text)
    assert found is not None
    return found.group(1)


def test_hostile_ids_in_paths_are_refused_with_a_4xx(operator: httpx.Client, site: Site) -> None:
    for value in HOSTILE_IDS:
        quoted = quote(value, safe="")
        for path in (f"/locations/{quoted}", f"/dashboard/live/{quoted}"):
            answer = operator.get(path)
            assert 400 <= answer.status_code < 500, (path, answer.status_code)
    huge = operator.get(f"/locations/{HUGE}")
    assert huge.status_code == 400
    assert "location id" in huge.text
    assert "9223372036854775807" in huge.text
    assert operator.get("/locations/424242").status_code == 404
    assert operator.get(f"/locations/{site.location_id}?zone=a%00b").status_code == 400
    assert operator.get(f"/dashboard/live/{HUGE}").json()["error"].startswith("location id")


def test_every_form_with_hostile_values_answers_a_4xx_or_a_redirect(
    operator: httpx.Client, site: Site
) -> None:
    token = csrf(operator)
    for path, fields in FORMS.items():
        for field in fields:
            values = HOSTILE_IDS + HOSTILE_TEXT if field in ID_FIELDS else HOSTILE_TEXT
            for value in values:
                form = {
                    "csrf": token,
                    "account_id": str(site.account_id),
                    "location_id": str(site.location_id),
                    "name": "Entrance",
                    field: value,
                }
                answer = operator.post(path, data=form)
                assert answer.status_code < 500, (path, field, value, answer.status_code)
                if "\x00" in value:
                    assert answer.status_code == 400, (path, field)
                    assert field in answer.text


def test_the_reported_cases_name_the_field(operator: httpx.Client) -> None:
    token = csrf(operator)
    for path, field in (
        ("/webhooks/replay", "delivery_id"),
        ("/feeds/revoke", "feed_id"),
        ("/keys/create", "account_id"),
        ("/feeds/create", "location_id"),
    ):
        answer = operator.post(path, data={"csrf": token, field: HUGE})
        assert answer.status_code == 400, path
        assert field in answer.text
        assert "out of range" in answer.text
    nul = operator.post("/keys/revoke", data={"csrf": token, "public_key": "ab\x00cd"})
    assert nul.status_code == 400
    assert "public_key" in nul.text
    assert "control character" in nul.text
    events = operator.get("/events", params={"location_id": HUGE})
    assert events.status_code == 200  # the filter's error is shown on the page
    assert "location_id" in events.text
