"""The ingest API over real HTTP, on both engines (docs/api.md, The ingest API)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from footfall.store.db import Database
from footfall.store.schema import channels, events, hourly_rollups, locations, triggers
from tests.conftest import Site
from tests.helpers import STORE_CONFIG, bearer, event, post_events, put_config, recent


def stored_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def rollup_total(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(select(func.coalesce(func.sum(hourly_rollups.c.count), 0))).scalar_one()
        )


def last_seen(db: Database, location_id: int) -> int | None:
    with db.read() as conn:
        value = conn.execute(
            select(locations.c.last_seen_at).where(locations.c.id == location_id)
        ).scalar_one()
    return None if value is None else int(value)


def assert_error(answer: httpx.Response, status: int, code: int, *words: str) -> Any:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"msg", "result", "code"}
    assert body["code"] == code
    for word in words:
        assert word in body["msg"], body["msg"]
    return body


def test_config_answer_and_accepted_batch(http: httpx.Client, site: Site, db: Database) -> None:
    answer = put_config(http, site.ingest_token, {**STORE_CONFIG, "timezone": "Asia/Kolkata"})
    assert answer == {
        "msg": "success",
        "result": {
            "location_id": site.location_id,
            "timezone": "Asia/Kolkata",
            "channels": 2,
            "triggers": 4,
        },
        "code": 0,
    }
    batch = [event(i) for i in range(1, 6)]
    stored = post_events(http, site.ingest_token, batch)
    assert stored.json() == {
        "msg": "success",
        "result": {"accepted": 5, "duplicates": 0},
        "code": 0,
    }
    assert stored_count(db) == 5
    assert last_seen(db, site.location_id) is not None


def test_absent_channels_and_triggers_become_inactive_and_keep_taking_events(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    smaller = {
        "version": "3.2.2",
        "channels": [
            {
                "id": "cam-door",
                "name": "Front door",
                "paid": 1,
                "triggers": [{"id": "t-enter", "name": "In", "type": "Line"}],
            }
        ],
    }
    answer = put_config(http, site.ingest_token, smaller)
    assert answer["result"]["channels"] == 1
    assert answer["result"]["triggers"] == 1
    assert answer["result"]["timezone"] == "UTC"
    with db.read() as conn:
        channel_rows = {r.id: (r.name, r.active) for r in conn.execute(select(channels))}
        trigger_rows = {r.id: (r.name, r.active) for r in conn.execute(select(triggers))}
        version = conn.execute(select(locations.c.version)).scalar_one()
    assert channel_rows == {"cam-door": ("Front door", 1), "cam-floor": ("Floor", 0)}
    assert trigger_rows == {
        "t-enter": ("In", 1),
        "t-exit": ("Exit", 0),
        "t-shelf": ("Shelf", 0),
        "t-scene": ("Scene", 0),
    }
    assert version == "3.2.2"
    # An agent may still deliver buffered events of a trigger it no longer declares.
    late = post_events(http, site.ingest_token, [event(1, trigger="t-exit")])
    assert late.json()["result"] == {"accepted": 1, "duplicates": 0}
    # Declaring it again reactivates it.
    assert put_config(http, site.ingest_token)["result"]["triggers"] == 4


def test_batch_sent_four_times_concurrently_is_stored_once(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    body = json.dumps([event(i, when=recent(i % 500)) for i in range(1, 1001)])

    def send(_: int) -> dict[str, int]:
        with httpx.Client(base_url=str(http.base_url), timeout=60) as client:
            answer = client.post(
                "/ingest/v1/events", content=body, headers=bearer(site.ingest_token)
            )
            assert answer.status_code == 200, answer.text
            result: dict[str, int] = answer.json()["result"]
            return result

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(send, range(4)))
    assert sum(r["accepted"] for r in results) == 1000
    assert sum(r["duplicates"] for r in results) == 3000
    assert stored_count(db) == 1000
    assert rollup_total(db) == 1000


def test_resent_batch_and_repeats_within_a_batch_are_duplicates(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    first = post_events(http, site.ingest_token, [event(1), event(2), event(1)])
    assert first.json()["result"] == {"accepted": 2, "duplicates": 1}
    changed = event(2, trigger="t-exit")  # same record_id, different content: still a dup
    again = post_events(http, site.ingest_token, [changed, event(3)])
    assert again.json()["result"] == {"accepted": 1, "duplicates": 1}
    with db.read() as conn:
        stored = dict(conn.execute(select(events.c.record_id, events.c.trigger_id)).all())
    assert stored == {1: "t-enter", 2: "t-enter", 3: "t-enter"}
    assert rollup_total(db) == 3


def test_one_bad_event_among_1000_stores_nothing(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    batch = [event(i) for i in range(1000)]
    batch[537]["event_time"] = "2026-11-25T10:15:02.250"
    body = assert_error(post_events(http, site.ingest_token, batch), 422, 4, "nothing was stored")
    assert body["result"] == [
        {
            "index": 537,
            "field": "event_time",
            "message": "'2026-11-25T10:15:02.250' has no UTC offset: add 'Z' or '±HH:MM'",
        }
    ]
    assert stored_count(db) == 0
    assert rollup_total(db) == 0


def test_every_problem_is_listed_with_index_and_field(http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    future = datetime.now(UTC) + timedelta(minutes=11)
    batch: list[dict[str, Any]] = [
        event(1, trigger="t-nope"),
        event(2, trigger="t-shelf"),  # a Zone trigger cannot fire TripwireCrossed
        event(3, when=future),
        {**event(4), "channel_id": "cam-floor"},
        {**event(5), "origin": "Alien"},
        {**event(6), "origin": "Vehicle", "suborigin": "Pedestrian"},
        {**event(7), "gender": "X", "age_range": "x" * 17},
        {"event_type": "TripwireCrossed", "record_id": "8"},
        {**event(9), "record_id": 2**63},
        {**event(10), "event_time": "yesterday"},
    ]
    body = assert_error(post_events(http, site.ingest_token, batch), 422, 4)
    found = {(p["index"], p["field"]) for p in body["result"]}
    assert found == {
        (0, "trigger_id"),
        (1, "event_type"),
        (2, "event_time"),
        (3, "channel_id"),
        (4, "origin"),
        (5, "suborigin"),
        (6, "gender"),
        (6, "age_range"),
        (7, "record_id"),
        (7, "trigger_id"),
        (7, "channel_id"),
        (7, "event_time"),
        (8, "record_id"),
        (9, "event_time"),
    }
    messages = {(p["index"], p["field"]): p["message"] for p in body["result"]}
    assert "unknown trigger 't-nope'" in messages[(0, "trigger_id")]
    assert "more than 10 minutes in the future" in messages[(2, "event_time")]
    assert "belongs to channel 'cam-door'" in messages[(3, "channel_id")]
    assert "expected an integer" in messages[(7, "record_id")]


def test_problem_list_is_capped_at_100(http: httpx.Client, site: Site) -> None:
    put_config(http, site.ingest_token)
    batch = [event(i, trigger="t-nope") for i in range(500)]
    body = assert_error(post_events(http, site.ingest_token, batch), 422, 4)
    assert len(body["result"]) == 100


def test_event_time_keeps_milliseconds_and_truncates_finer_digits(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    batch = [
        event(1, when="2026-01-02T03:04:05.123999+05:30"),
        event(2, when="2026-01-01T21:34:05Z"),
    ]
    assert post_events(http, site.ingest_token, batch).status_code == 200
    with db.read() as conn:
        times = dict(conn.execute(select(events.c.record_id, events.c.event_time)).all())
    expected = datetime(2026, 1, 1, 21, 34, 5, tzinfo=UTC)
    base = int(expected.timestamp()) * 1000
    assert times == {1: base + 123, 2: base}


def test_bad_requests_get_clear_4xx_and_change_nothing(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    post_events(http, site.ingest_token, [event(1)])
    headers = {**bearer(site.ingest_token), "Content-Type": "application/json"}
    cases = [
        (http.post("/ingest/v1/events", content=b"[{", headers=headers), 400, 4, "not valid JSON"),
        (
            http.post("/ingest/v1/events", content=b'{"a": 1}', headers=headers),
            400,
            4,
            "expected a JSON array",
        ),
        (http.post("/ingest/v1/events", content=b"[1, 2]", headers=headers), 400, 4, "item 0"),
        (
            http.post("/ingest/v1/events", json=[event(2)], headers=bearer("wrong")),
            401,
            1,
            "unknown ingest token",
        ),
        (http.post("/ingest/v1/events", json=[event(2)]), 401, 1, "missing bearer token"),
        (
            post_events(http, site.ingest_token, [event(i) for i in range(10_001)]),
            413,
            4,
            "at most 10000",
        ),
        (
            http.post(
                "/ingest/v1/events",
                content=b"[" + b" " * (16 * 1024 * 1024) + b"]",
                headers=headers,
            ),
            413,
            4,
            "exceeds",
        ),
        (
            http.put("/ingest/v1/config", content=b"{", headers=headers),
            400,
            4,
            "not valid JSON",
        ),
    ]
    for answer, status, code, words in cases:
        assert_error(answer, status, code, words)
    assert stored_count(db) == 1
    assert rollup_total(db) == 1


def test_bad_config_is_422_naming_the_field_and_changes_nothing(
    http: httpx.Client, site: Site, db: Database
) -> None:
    put_config(http, site.ingest_token)
    bad = {
        "version": "4",
        "timezone": "Mars/Olympus",
        "channels": [
            {"id": "a,b", "triggers": [{"id": "t-enter", "type": "Circle"}]},
            {"id": "cam-2", "paid": 2, "triggers": [{"id": "t-enter", "type": "Line"}]},
            {"id": "x" * 65},
        ],
    }
    answer = http.put("/ingest/v1/config", json=bad, headers=bearer(site.ingest_token))
    body = assert_error(answer, 422, 4, "nothing was changed")
    fields = [p["field"] for p in body["result"]]
    assert fields == [
        "timezone",
        "channels[0].id",
        "channels[0].triggers[0].type",
        "channels[1].paid",
        "channels[1].triggers[0].id",
        "channels[2].id",
    ]
    wrong_type = http.put(
        "/ingest/v1/config", json={"channels": [{"id": 5}]}, headers=bearer(site.ingest_token)
    )
    assert assert_error(wrong_type, 422, 4)["result"][0]["field"] == "channels[0].id"
    with db.read() as conn:
        assert conn.execute(select(locations.c.version)).scalar_one() == "3.2.1"
        assert conn.execute(select(func.count()).select_from(channels)).scalar_one() == 2


def test_location_is_marked_seen_even_by_a_rejected_batch(
    http: httpx.Client, site: Site, db: Database
) -> None:
    assert last_seen(db, site.location_id) is None
    assert_error(post_events(http, site.ingest_token, [event(1)]), 422, 4)
    assert last_seen(db, site.location_id) is not None


def test_health(http: httpx.Client, engine: str) -> None:
    answer = http.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["database"] == engine


def _with_lobby(config: dict[str, Any]) -> dict[str, Any]:
    """`config` with one more Line trigger on the door camera."""
    door, *others = config["channels"]
    lobby = {"id": "t-lobby", "name": "Lobby", "type": "Line"}
    return {**config, "channels": [{**door, "triggers": [*door["triggers"], lobby]}, *others]}


def test_a_trigger_declared_just_now_takes_events_at_once(
    http: httpx.Client, site: Site, db: Database
) -> None:
    """An agent (the Frigate bridge does this) declares a trigger the moment it first sees
    it and sends its events right after: they are stored, not refused against the config
    the server had cached a moment before."""
    put_config(http, site.ingest_token)
    assert post_events(http, site.ingest_token, [event(1)]).status_code == 200  # cached
    put_config(http, site.ingest_token, _with_lobby(STORE_CONFIG))
    answer = post_events(http, site.ingest_token, [event(2, trigger="t-lobby")])
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == {"accepted": 1, "duplicates": 0}
    # An event for a trigger that was never declared is still refused, naming it.
    refused = post_events(http, site.ingest_token, [event(3, trigger="t-nowhere")])
    body = assert_error(refused, 422, 4)
    assert body["result"][0]["field"] == "trigger_id"
    assert stored_count(db) == 2


def test_a_trigger_declared_through_another_process_takes_events_at_once(
    site: Site, db: Database
) -> None:
    """Two processes, each with its own caches: a config declared through one is used by
    the other for the next batch that needs it."""
    from footfall.services.ingest import Ingest
    from footfall.store.locations import get_location

    first, second = Ingest(db), Ingest(db)
    try:

        def location() -> Any:
            with db.read() as conn:
                return get_location(conn, site.location_id)

        first.put_config(location(), json.dumps(STORE_CONFIG).encode())
        stale = location()  # what `second` keeps cached with the token
        second.post_events(stale, json.dumps([event(1)]).encode())
        first.put_config(location(), json.dumps(_with_lobby(STORE_CONFIG)).encode())
        result = second.post_events(stale, json.dumps([event(2, trigger="t-lobby")]).encode())
        assert (result.accepted, result.duplicates) == (1, 0)
    finally:
        first.close()
        second.close()
    assert stored_count(db) == 2
