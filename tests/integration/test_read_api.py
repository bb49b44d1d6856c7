"""The Camlytics-compatible read API over real HTTP, on both engines (docs/api.md, The read API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from footfall.config import Settings
from footfall.domain.times import format_offset, parse_zone
from footfall.services import management
from footfall.store.db import Database
from footfall.store.schema import events as events_table
from footfall.store.schema import locations as locations_table
from tests.conftest import RunningServer, Site, make_site
from tests.helpers import Signer, event, ok, post_events, put_config
from tests.needs import require

# A copy of ../shared/reference/camlytics-examples.json: the reference document's example
# payloads, keyed by endpoint (kept in the repository so the suite runs anywhere).
REFERENCE = Path(__file__).parents[1] / "data" / "camlytics-examples.json"
SHARED = Path(__file__).parents[3] / "shared" / "reference" / "camlytics-examples.json"


def reference_examples() -> dict[str, Any]:
    return dict(json.loads(REFERENCE.read_text()))


def test_reference_copy_is_current() -> None:
    # CI has ../shared beside its clone; elsewhere the copy alone is checked by the rest.
    require(
        SHARED.is_file(),
        f"no reference document at {SHARED} to compare the copy with",
        found=str(SHARED),
    )
    assert json.loads(SHARED.read_text()) == reference_examples()


@pytest.fixture
def signer(site: Site) -> Signer:
    return Signer(site.public_key, site.secret)


@pytest.fixture
def stocked(http: httpx.Client, site: Site) -> Site:
    """The site with the store config and a few events of every trigger type."""
    put_config(http, site.ingest_token, _config_with_zone("America/New_York"))
    batch = [
        event(1, when="2026-07-01T12:00:00.000-04:00"),
        event(
            2,
            trigger="t-exit",
            when="2026-07-01T12:30:00.500-04:00",
            origin="Vehicle",
            suborigin="Car",
        ),
        event(3, trigger="t-shelf", event_type="RegionJoin", when="2026-01-15T09:00:00Z"),
        event(
            4,
            trigger="t-shelf",
            event_type="RegionLeave",
            when="2026-01-15T09:05:00Z",
            origin="Face",
            suborigin="",
            age_range="26 - 35",
            gender="Male",
        ),
        event(
            5,
            trigger="t-scene",
            event_type="Sabotage",
            when="2026-01-15T10:00:00Z",
            object_id=-1,
            snapshot_id=-235343534,
        ),
    ]
    ok(post_events(http, site.ingest_token, batch))
    return site


def _config_with_zone(zone: str) -> dict[str, Any]:
    from tests.helpers import STORE_CONFIG

    return {**STORE_CONFIG, "timezone": zone}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"


def example_types(samples: list[dict[str, Any]]) -> dict[str, set[str]]:
    """For each field of the reference examples, the JSON types it takes (for arrays, the
    types of their elements, written `array<type>`)."""
    types: dict[str, set[str]] = {}
    for sample in samples:
        for name, value in sample.items():
            kinds = types.setdefault(name, set())
            if isinstance(value, list):
                kinds.add("array")
                kinds.update(f"array<{_json_type(x)}>" for x in value)
            else:
                kinds.add(_json_type(value))
    return types


def assert_same_shape(ours: dict[str, Any], samples: list[dict[str, Any]]) -> None:
    expected = example_types(samples)
    assert set(ours) == set(expected)
    for name, value in ours.items():
        if isinstance(value, list):
            assert "array" in expected[name], name
            for item in value:
                assert f"array<{_json_type(item)}>" in expected[name], (name, item)
        else:
            assert expected[name] == {_json_type(value)}, (name, value, expected[name])


ENDPOINT_ITEMS = {
    "GET /locations": "/locations",
    "GET /channels": "/channels",
    "GET /triggers": "/triggers",
    "GET /events": "/events",
    "GET /totals/triggers": "/totals/triggers",
    "GET /totals/types": "/totals/types",
}


def test_every_item_has_the_reference_field_names_and_json_types(
    http: httpx.Client, stocked: Site, signer: Signer, db: Database
) -> None:
    examples = reference_examples()
    for key, path in ENDPOINT_ITEMS.items():
        envelope = signer.get(http, path).json()
        example = examples[key]
        assert set(envelope) == set(example)
        assert envelope["code"] == 0
        assert envelope["result"], key
        for item in envelope["result"]:
            assert_same_shape(item, example["result"])
    # Histograms come from zone analytics; a stored one must render in the same shape. It
    # is stored for the hour before the zone's first event, which the server's own job
    # never computes (it starts at that event's hour), and read back alone.
    _store_histogram(db, stocked.location_id)
    hour = "since=2026-01-15T08%3A00%3A00Z&until=2026-01-15T09%3A00%3A00Z"
    envelope = signer.get(http, "/histograms", hour).json()
    assert len(envelope["result"]) == 1
    assert_same_shape(envelope["result"][0], examples["GET /histograms"]["result"])
    assert envelope["result"][0]["counting_data"] == [3400.3, 199.7]


def _store_histogram(db: Database, location_id: int) -> None:
    from footfall.store.schema import histograms

    with db.write() as conn:
        conn.execute(
            histograms.insert().values(
                location_id=location_id,
                id=77,
                trigger_id="t-shelf",
                channel_id="cam-floor",
                hour_start=1768464000000,  # 2026-01-15T08:00Z
                counting_data="[3400.3,199.7]",
                lifetime_data="[10,4,0,1]",
                computed_at=0,
            )
        )


def test_items_render_exactly(
    http: httpx.Client, stocked: Site, signer: Signer, db: Database
) -> None:
    with db.read() as conn:
        location_hash = conn.execute(
            select(locations_table.c.hash).where(locations_table.c.id == stocked.location_id)
        ).scalar_one()
        winter_id = conn.execute(
            select(events_table.c.id).where(events_table.c.record_id == 4)
        ).scalar_one()
    offset_now = format_offset(datetime.now(parse_zone("America/New_York")).utcoffset())
    locations = ok(signer.get(http, "/locations"))
    assert locations == [
        {
            "name": "Store",
            "id": stocked.location_id,
            "version": "3.2.1",
            "timezone_offset": offset_now,
            "hash": location_hash,
        }
    ]
    events = ok(signer.get(http, "/events"))
    summer, winter = events[1], events[3]
    assert summer["event_time"] == "2026-07-01T12:30:00.500-04:00"  # EDT
    assert winter["event_time"] == "2026-01-15T04:05:00.000-05:00"  # EST
    assert winter == {
        "record_id": 4,
        "event_type": "RegionLeave",
        "snapshot_id": 0,
        "trigger_id": "t-shelf",
        "origin": "Face",
        "suborigin": "",
        "age_range": "26 - 35",
        "gender": "Male",
        "id": winter_id,
        "channel_id": "cam-floor",
        "object_id": 4,
        "location_id": stocked.location_id,
        "event_time": "2026-01-15T04:05:00.000-05:00",
    }
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    channels = ok(signer.get(http, "/channels"))
    assert channels == [
        {
            "name": "Entrance",
            "paid": 1,
            "active": 1,
            "id": "cam-door",
            "location_id": stocked.location_id,
        },
        {
            "name": "Floor",
            "paid": 0,
            "active": 1,
            "id": "cam-floor",
            "location_id": stocked.location_id,
        },
    ]
    triggers = ok(signer.get(http, "/triggers", "channel_id=cam-door"))
    assert triggers == [
        {
            "name": "Enter",
            "active": 1,
            "id": "t-enter",
            "type": "Line",
            "channel_id": "cam-door",
            "location_id": stocked.location_id,
        },
        {
            "name": "Exit",
            "active": 1,
            "id": "t-exit",
            "type": "Line",
            "channel_id": "cam-door",
            "location_id": stocked.location_id,
        },
    ]
    totals = ok(signer.get(http, "/totals/triggers"))
    assert {(t["trigger_id"], t["trigger_name"], t["count"]) for t in totals} == {
        ("t-enter", "Enter", 1),
        ("t-exit", "Exit", 1),
        ("t-shelf", "Shelf", 2),
        ("t-scene", "Scene", 1),
    }
    types = ok(signer.get(http, "/totals/types"))
    assert sorted((t["channel_id"], t["type"], t["count"]) for t in types) == [
        ("cam-door", "TripwireCrossed", 2),
        ("cam-floor", "RegionJoin", 1),
        ("cam-floor", "RegionLeave", 1),
        ("cam-floor", "Sabotage", 1),
    ]


def test_filters_and_ranges(http: httpx.Client, stocked: Site, signer: Signer) -> None:
    def records(query: str) -> list[int]:
        return [e["record_id"] for e in ok(signer.get(http, "/events", query))]

    loc = stocked.location_id
    assert records(f"location_id={loc}") == [1, 2, 3, 4, 5]
    assert records("channel_id=cam-door") == [1, 2]
    assert records("trigger_id=t-shelf,t-scene") == [3, 4, 5]
    assert records("event_type=RegionJoin,Sabotage") == [3, 5]
    assert records("origin=Vehicle") == [2]
    assert records("origin=Face,Vehicle") == [2, 4]
    # since inclusive, until exclusive, any offset; '+' may arrive as a space.
    assert records("since=" + quote("2026-07-01T16:00:00.000Z", safe="")) == [1, 2]
    assert records("since=2026-07-01T12:00-04:00&until=2026-07-01T12:30:00.500-04:00") == [1]
    assert records("since=2026-01-15T14:35+05:30") == [1, 2, 4, 5]
    assert records("since=2026-01-15T14:35%2B05:30") == [1, 2, 4, 5]
    assert records("until=2026-01-15T09:05Z") == [3]
    # 1 to 9 fraction digits, read to the millisecond: Python's isoformat() works as it is.
    assert records("until=2026-01-15T09:05:00.000999Z") == [3]
    assert records("until=2026-01-15T09:05:00.001Z") == [3, 4]
    assert records("until=2026-01-15T09:05:00.0019Z") == [3, 4]
    assert records("until=2026-01-15T09:05:00.000000001Z") == [3]
    assert records("until=2026-01-15T09:05:00.1Z") == [3, 4]
    isoformat = datetime(2026, 1, 15, 9, 5, 0, 1, tzinfo=UTC).isoformat()  # +00:00, 6 digits
    assert records("until=" + quote(isoformat, safe="")) == [3]
    assert records("since=2026-07-01T00:00Z&until=2026-01-01T00:00Z") == []
    assert records("since=2026-07-01T00:00Z&until=2026-07-01T00:00Z") == []
    assert records("limit=2") == [1, 2]
    first_two = ok(signer.get(http, "/events", "limit=2"))
    assert records(f"after_id={first_two[-1]['id']}&limit=2") == [3, 4]
    assert records("unknown_parameter=1&another=2") == [1, 2, 3, 4, 5]
    totals = ok(signer.get(http, "/totals/triggers", "event_type=RegionLeave&origin=Face"))
    assert [(t["trigger_id"], t["count"]) for t in totals] == [("t-shelf", 1)]
    types = ok(signer.get(http, "/totals/types", "channel_id=cam-floor&since=2026-01-15T09:01Z"))
    assert sorted((t["type"], t["count"]) for t in types) == [("RegionLeave", 1), ("Sabotage", 1)]


MALFORMED = [
    ("/events", "location_id=abc", "location_id"),
    ("/events", "location_id=1,,2", "location_id"),
    ("/events", "location_id=", "location_id"),
    ("/events", "location_id=-1", "location_id"),
    ("/events", "since=2026-01-15", "since"),
    ("/events", "since=2026-01-15T10:00", "since"),
    ("/events", "since=2026-13-15T10:00Z", "since"),
    ("/events", "until=2026-01-15T10:00:00.1234567890Z", "until"),  # 10 fraction digits
    ("/events", "until=2026-W03-4T10:00Z", "until"),  # a week date
    ("/events", "until=20260115T100000Z", "until"),  # the basic format
    ("/events", "until=yesterday", "until"),
    ("/events", "limit=0", "limit"),
    ("/events", "limit=10001", "limit"),
    ("/events", "limit=1e3", "limit"),
    ("/events", "after_id=-5", "after_id"),
    ("/events", "after_id=%EF%BC%91", "after_id"),  # a full-width digit is not decimal
    ("/events", "event_type=Teleport", "event_type"),
    ("/events", "origin=Alien", "origin"),
    ("/events", "channel_id=a&channel_id=b", "channel_id"),
    ("/events", "channel_id=a%00b", "channel_id"),
    ("/totals/triggers", "trigger_id=%01", "trigger_id"),
    ("/histograms", "limit=abc", "limit"),
    ("/histograms", "since=now", "since"),
    ("/totals/triggers", "until=2026-01-15T10:00+25:00", "until"),
    ("/totals/types", "origin=", "origin"),
    ("/channels", "location_id=x", "location_id"),
    ("/triggers", "location_id=1.5", "location_id"),
]


@pytest.mark.parametrize(("path", "query", "name"), MALFORMED)
def test_malformed_parameters_are_code_4_naming_the_parameter(
    http: httpx.Client, stocked: Site, signer: Signer, path: str, query: str, name: str
) -> None:
    answer = signer.get(http, path, query)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == 4
    assert body["result"] == []
    assert f"'{name}'" in body["msg"]


def test_error_table_code_for_code(
    http: httpx.Client, stocked: Site, signer: Signer, db: Database
) -> None:
    def expect(answer: httpx.Response, status: int, code: int) -> str:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["code"] == code
        assert body["result"] == []
        assert body["msg"]
        return str(body["msg"])

    uri = f"/service/api/v1/events?nonce={signer.next_nonce()}"
    # 1: missing, unknown, revoked key
    expect(http.get(uri, headers={"X-Sign": signer.headers(uri)["X-Sign"]}), 401, 1)
    expect(http.get(uri, headers={**signer.headers(uri), "X-Key": "nope"}), 401, 1)
    # 2: missing or wrong signature (header names are case-insensitive; hex case too)
    expect(http.get(uri, headers={"X-Key": signer.public_key}), 401, 2)
    expect(http.get(uri, headers={**signer.headers(uri), "X-Sign": "ab" * 64}), 401, 2)
    other = f"/service/api/v1/events?nonce={signer.nonce}&location_id=1"
    expect(http.get(other, headers=signer.headers(uri)), 401, 2)
    upper = {"x-key": signer.public_key, "x-sign": signer.headers(uri)["X-Sign"].upper()}
    assert ok(http.get(uri, headers=upper))
    # 3: missing, malformed, replayed (equal) and lower nonces
    expect(signer.get_raw(http, "/service/api/v1/events"), 401, 3)
    expect(signer.get_raw(http, "/service/api/v1/events?nonce=abc"), 401, 3)
    expect(signer.get_raw(http, "/service/api/v1/events?nonce=0"), 401, 3)
    expect(signer.get_raw(http, f"/service/api/v1/events?nonce={2**63}"), 401, 3)
    expect(signer.get_raw(http, uri), 401, 3)  # the same request again
    expect(signer.get_raw(http, f"/service/api/v1/events?nonce={signer.nonce - 1}"), 401, 3)
    expect(
        signer.get_raw(http, f"/service/api/v1/events?nonce={signer.nonce + 1}&nonce=999999"),
        401,
        3,
    )
    # 4: a malformed parameter
    expect(signer.get(http, "/events", "limit=x"), 400, 4)
    # 5: a location of another account answers exactly like one that does not exist
    foreign = make_site(db, name="Rival")
    missing = expect(signer.get(http, "/events", "location_id=999999"), 404, 5)
    other_account = expect(
        signer.get(http, "/events", f"location_id={foreign.location_id}"), 404, 5
    )
    assert other_account == missing.replace("999999", str(foreign.location_id))
    # 1 again: a revoked key stops working at once
    management.revoke_key(db, signer.public_key)
    expect(signer.get(http, "/locations"), 401, 1)


def test_nonce_is_kept_by_requests_rejected_for_key_or_signature(
    http: httpx.Client, stocked: Site, signer: Signer
) -> None:
    uri = f"/service/api/v1/locations?nonce={signer.next_nonce()}"
    assert http.get(uri, headers={**signer.headers(uri), "X-Sign": "0" * 128}).status_code == 401
    assert http.get(uri, headers={**signer.headers(uri), "X-Key": "x"}).status_code == 401
    assert ok(signer.get_raw(http, uri)) is not None  # the nonce was still unused


def test_nonce_is_used_by_requests_rejected_for_parameters_or_location(
    http: httpx.Client, stocked: Site, signer: Signer
) -> None:
    for query in ("limit=abc", "location_id=424242"):
        uri = f"/service/api/v1/events?nonce={signer.next_nonce()}&{query}"
        assert signer.get_raw(http, uri).json()["code"] in (4, 5)
        assert signer.get_raw(http, uri).json()["code"] == 3


def test_tenant_isolation(http: httpx.Client, stocked: Site, db: Database) -> None:
    rival = make_site(db, name="Rival")
    put_config(http, rival.ingest_token)
    ok(post_events(http, rival.ingest_token, [event(1), event(2)]))
    mine, theirs = (
        Signer(stocked.public_key, stocked.secret),
        Signer(rival.public_key, rival.secret),
    )
    assert [x["id"] for x in ok(mine.get(http, "/locations"))] == [stocked.location_id]
    assert [x["id"] for x in ok(theirs.get(http, "/locations"))] == [rival.location_id]
    for path in ("/events", "/channels", "/triggers", "/totals/triggers", "/histograms"):
        for item in ok(mine.get(http, path)):
            assert item["location_id"] == stocked.location_id
    assert len(ok(theirs.get(http, "/events"))) == 2
    both = f"location_id={stocked.location_id},{rival.location_id}"
    assert mine.get(http, "/events", both).json()["code"] == 5


@pytest.fixture
def throttled(settings: Settings, db: Database) -> Iterator[httpx.Client]:
    limited = Settings(database_url=settings.database_url, rate_limit=1)
    with RunningServer(limited, db) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_throttle_answers_429_with_retry_after_and_keeps_the_nonce(
    throttled: httpx.Client, site: Site, signer: Signer
) -> None:
    import time

    assert ok(signer.get(throttled, "/locations")) is not None
    uri = f"/service/api/v1/locations?nonce={signer.next_nonce()}"
    refused = signer.get_raw(throttled, uri)
    assert refused.status_code == 429
    assert refused.json()["code"] == 6
    assert int(refused.headers["Retry-After"]) >= 1
    time.sleep(1.05)
    assert ok(signer.get_raw(throttled, uri)) is not None  # same nonce, now accepted
    # A request rejected for its nonce still counts against the throttle...
    time.sleep(1.05)
    assert signer.get_raw(throttled, uri).json()["code"] == 3
    assert signer.get(throttled, "/locations").json()["code"] == 6
    # ...but bad keys and signatures do not.
    time.sleep(1.05)
    bad = f"/service/api/v1/locations?nonce={signer.next_nonce()}"
    assert (
        throttled.get(bad, headers={"X-Key": signer.public_key, "X-Sign": "0"}).json()["code"] == 2
    )
    assert ok(signer.get(throttled, "/locations")) is not None


def test_throttle_is_per_key(throttled: httpx.Client, site: Site, db: Database) -> None:
    second_key = management.create_key(db, site.account_id)
    first, second = (
        Signer(site.public_key, site.secret),
        Signer(second_key.public_key, second_key.secret),
    )
    assert ok(first.get(throttled, "/locations")) is not None
    assert ok(second.get(throttled, "/locations")) is not None
    assert first.get(throttled, "/locations").status_code == 429


def test_openapi_describes_every_endpoint_with_its_auth(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    read_paths = [p for p in spec["paths"] if p.startswith("/service/api/v1/")]
    assert sorted(read_paths) == sorted(
        f"/service/api/v1{p}"
        for p in (
            "/locations",
            "/channels",
            "/triggers",
            "/events",
            "/totals/triggers",
            "/totals/types",
            "/histograms",
            "/occupancy",
            "/queues",
            "/coverage",
        )
    )
    schemes = spec["components"]["securitySchemes"]
    assert schemes["XKey"] == {**schemes["XKey"], "type": "apiKey", "in": "header", "name": "X-Key"}
    assert schemes["XSign"]["name"] == "X-Sign"
    assert schemes["IngestToken"]["scheme"] == "bearer"
    events = spec["paths"]["/service/api/v1/events"]["get"]
    assert events["security"] == [{"XKey": [], "XSign": []}]
    assert [p["name"] for p in events["parameters"]] == [
        "nonce",
        "location_id",
        "channel_id",
        "trigger_id",
        "event_type",
        "origin",
        "since",
        "until",
        "after_id",
        "limit",
    ]
    assert set(events["responses"]) == {"200", "400", "401", "404", "429", "500"}
    assert spec["paths"]["/ingest/v1/events"]["post"]["security"] == [{"IngestToken": []}]
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_internal_errors_are_code_7_without_details(
    http: httpx.Client,
    stocked: Site,
    signer: Signer,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sqlalchemy import text

    with db.write() as conn:  # break the database under the running server
        conn.execute(text("ALTER TABLE events RENAME TO events_gone"))
    answer = signer.get(http, "/events")
    assert answer.status_code == 500
    assert answer.json() == {
        "msg": "internal error; the details are in the server log",
        "result": [],
        "code": 7,
    }
    assert "events" in caplog.text  # the details went to the log instead
