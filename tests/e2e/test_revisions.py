"""Revisions, on both engines: late events for yesterday revise its hour, one
`revisions` delivery per kind reaches a real receiver over loopback HTTP for that hour
(coalesced over several late batches), and `updated_since` returns exactly that
histogram. Every clock here is a manual one: nothing waits on the wall clock but the
receiver's HTTP round trip."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text

from footfall.domain.read_params import Params
from footfall.services import revisions, webhooks
from footfall.services.analytics import compute_histograms
from footfall.services.dispatcher import Dispatcher
from footfall.services.reads import ReadApi
from footfall.store.db import Database
from footfall.store.schema import webhook_deliveries
from tests.conftest import Site, make_site
from tests.e2e.test_webhooks import DispatcherThread
from tests.helpers import (
    ManualClock,
    Signer,
    event,
    ingest_directly,
    ok,
    post_events,
    put_config,
)
from tests.webhook_receiver import Receiver, verify_standard_webhook

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("America/New_York")
YESTERDAY = datetime(2026, 11, 24, tzinfo=ZONE)
TODAY = YESTERDAY + timedelta(days=1)


def at(day: datetime, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=second)


def stay(record: int, obj: int, join: datetime, leave: datetime) -> list[dict[str, Any]]:
    return [
        event(record, trigger="t-shelf", event_type="RegionJoin", object_id=obj, when=join),
        event(record + 1, trigger="t-shelf", event_type="RegionLeave", object_id=obj, when=leave),
    ]


@pytest.fixture
def shop(db: Database) -> Site:
    return make_site(db, timezone="America/New_York")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def deliveries(db: Database, endpoint_id: int) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(webhook_deliveries.c.endpoint_id == endpoint_id)
            ).scalar_one()
        )


def test_a_late_event_for_yesterday_is_one_revision_per_kind_for_its_hour(
    db: Database, shop: Site, receiver: Receiver
) -> None:
    clock = ManualClock(at(YESTERDAY, 9, 20))
    # Yesterday, live: a stay in the 09:00 hour and crossings through the day.
    ingest_directly(
        db,
        shop.location_id,
        [
            *stay(1, 1, at(YESTERDAY, 9, 10), at(YESTERDAY, 9, 15)),
            event(5, when=at(YESTERDAY, 9, 1)),
        ],
        clock=clock,
    )
    clock.set(at(TODAY, 10))
    first = compute_histograms(db, clock=clock)
    assert first.hours == 25  # yesterday 09:00 to today 10:00
    endpoint = webhooks.create_endpoint(
        db, location_id=shop.location_id, url=receiver.url, kind="revisions", allow_private=True
    )
    nothing = webhooks.create_endpoint(  # another channel's revisions only
        db,
        location_id=shop.location_id,
        url=receiver.url,
        kind="revisions",
        channel_id="cam-door",
        allow_private=True,
    )
    api = ReadApi(db, clock)
    before = api.histograms(shop.account_id, Params(trigger_ids=("t-shelf",), limit=100))
    assert revisions.notify(db, clock=clock) == 0

    # Today at 10:00:05 the agent delivers a stay it buffered: yesterday 09:30 to 09:40.
    clock.advance(5)
    revised_from = clock()
    ingest_directly(
        db, shop.location_id, stay(10, 2, at(YESTERDAY, 9, 30), at(YESTERDAY, 9, 40)), clock=clock
    )
    clock.advance(5)
    assert compute_histograms(db, clock=clock).hours == 25  # recomputed; one hour differs
    clock.advance(10)
    assert revisions.notify(db, clock=clock) == 0  # not quiet for 30 s yet: coalescing
    # 20 s later a second buffered stay for the same hour: still one announcement.
    ingest_directly(
        db, shop.location_id, stay(20, 3, at(YESTERDAY, 9, 45), at(YESTERDAY, 9, 50)), clock=clock
    )
    compute_histograms(db, clock=clock)
    last_revision = clock()
    clock.advance(31)
    assert revisions.notify(db, clock=clock) == 2  # totals and histogram, to `endpoint`
    clock.advance(600)
    assert revisions.notify(db, clock=clock) == 0  # announced once
    assert deliveries(db, nothing.id) == 0
    assert deliveries(db, endpoint.id) == 2

    with DispatcherThread(Dispatcher(db, timeout=5, allow_private=True)):
        receiver.wait_for(lambda got: len(got) >= 2)
    bodies = sorted((r.json for r in receiver.received), key=lambda b: b["kind"])
    revised_at = "2026-11-25T10:00:20.000-05:00"
    assert last_revision == int(datetime.fromisoformat(revised_at).timestamp() * 1000)
    assert bodies == [
        {
            "location_id": shop.location_id,
            "trigger_id": "t-shelf",
            "hour": "2026-11-24T09:00:00-05:00",
            "kind": "histogram",
            "revised_at": revised_at,
        },
        {
            "location_id": shop.location_id,
            "trigger_id": "t-shelf",
            "hour": "2026-11-24T09:00:00-05:00",
            "kind": "totals",
            "revised_at": revised_at,
        },
    ]
    assert all(verify_standard_webhook(endpoint.secret, r) for r in receiver.received)

    # updated_since: exactly that histogram, with the id it always had.
    since_revision = api.histograms(
        shop.account_id, Params(trigger_ids=("t-shelf",), updated_since=revised_from)
    )
    assert [h.histogram_time for h in since_revision] == ["2026-11-24T09:00:00-05:00"]
    assert since_revision[0].id == next(
        h.id for h in before if h.histogram_time == "2026-11-24T09:00:00-05:00"
    )
    assert since_revision[0].lifetime_data == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]  # 5, 10, 5 min
    assert len(api.histograms(shop.account_id, Params(updated_since=0, limit=100))) == 25
    # Totals: over yesterday only the revised trigger changed; t-enter did not.
    day = Params(
        since=int(YESTERDAY.timestamp() * 1000),
        until=int(TODAY.timestamp() * 1000),
        updated_since=revised_from,
    )
    assert [t.trigger_id for t in api.totals_by_trigger(shop.account_id, day)] == ["t-shelf"]
    assert {t.type for t in api.totals_by_type(shop.account_id, day)} == {
        "RegionJoin",
        "RegionLeave",
    }
    everything = Params(since=day.since, until=day.until)
    assert len(api.totals_by_trigger(shop.account_id, everything)) == 2
    # And an hour still open at `updated_since` is always included (it may have changed).
    today = Params(since=int(TODAY.timestamp() * 1000), updated_since=clock())
    ingest_directly(db, shop.location_id, [event(30, when=at(TODAY, 10, 5))], clock=clock)
    assert [t.trigger_id for t in api.totals_by_trigger(shop.account_id, today)] == ["t-enter"]


def test_a_late_crossing_is_one_totals_revision_and_fresh_data_none(
    db: Database, shop: Site
) -> None:
    clock = ManualClock(at(TODAY, 10))
    # Live data (this minute) and data of an hour that ended under a minute ago are not
    # revisions; an event for 08:00 arriving at 10:00 is.
    ingest_directly(
        db,
        shop.location_id,
        [event(1, when=at(TODAY, 9, 59, 59)), event(2, when=at(TODAY, 9, 59, 30))],
        clock=clock,
    )
    clock.advance(50)
    ingest_directly(db, shop.location_id, [event(3, when=at(TODAY, 9, 59, 58))], clock=clock)
    assert revisions.notify(db, clock=ManualClock(clock() + 3_600_000)) == 0
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM revisions")).scalar_one() == 0
    ingest_directly(db, shop.location_id, [event(4, when=at(TODAY, 8, 30))], clock=clock)
    ingest_directly(db, shop.location_id, [event(4, when=at(TODAY, 8, 30))], clock=clock)  # dup
    with db.read() as conn:
        rows = conn.execute(text("SELECT kind, trigger_id, hour FROM revisions")).all()
    assert [tuple(r) for r in rows] == [("totals", "t-enter", int(at(TODAY, 8).timestamp() * 1000))]


def test_a_poisoned_revision_backs_off_and_the_others_are_announced(
    db: Database, shop: Site, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    other = make_site(db, timezone="Europe/Paris", name="Other")
    clock = ManualClock(at(TODAY, 10))
    for site in (shop, other):
        ingest_directly(db, site.location_id, [event(1, when=at(TODAY, 8, 30))], clock=clock)
        webhooks.create_endpoint(
            db, location_id=site.location_id, url=receiver.url, kind="revisions", allow_private=True
        )
    with db.write() as conn:  # a zone that no longer parses: formatting its hour fails
        conn.execute(
            text("UPDATE locations SET timezone = 'Mars/Olympus' WHERE id = :id"),
            {"id": other.location_id},
        )
    clock.advance(60)
    assert revisions.notify(db, clock=clock) == 1
    assert "announcing totals hour" in caplog.text
    clock.advance(30)
    assert revisions.notify(db, clock=clock) == 0  # backing off, not hammering
    with db.write() as conn:
        conn.execute(
            text("UPDATE locations SET timezone = 'Europe/Paris' WHERE id = :id"),
            {"id": other.location_id},
        )
    clock.advance(31)
    assert revisions.notify(db, clock=clock) == 1


def test_updated_since_is_parsed_strictly_and_v1_answers_keep_their_shape(
    http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(1)]))
    signer = Signer(site.public_key, site.secret)
    for path in ("/histograms", "/totals/triggers", "/totals/types"):
        bad = signer.get(http, path, "updated_since=2026-11-24")
        assert bad.status_code == 400, path
        assert bad.json()["code"] == 4
        assert "'updated_since'" in bad.json()["msg"]
        assert "Z or ±HH:MM" in bad.json()["msg"]
    # Without it, and with it, the items are the v1 items, field for field.
    plain = ok(signer.get(http, "/totals/triggers"))
    since = ok(signer.get(http, "/totals/triggers", "updated_since=2000-01-01T00:00Z"))
    assert plain == since
    assert list(plain[0]) == ["trigger_name", "trigger_id", "count", "channel_id", "location_id"]


def test_two_processes_announcing_at_once_never_announce_one_revision_twice(
    db_url: str, db: Database, shop: Site, receiver: Receiver
) -> None:
    clock = ManualClock(at(TODAY, 23))
    late = [event(i, when=at(TODAY, i % 20, 30)) for i in range(1, 41)]  # 20 hours
    ingest_directly(db, shop.location_id, late, clock=clock)
    webhooks.create_endpoint(
        db, location_id=shop.location_id, url=receiver.url, kind="revisions", allow_private=True
    )
    clock.advance(60)
    second = Database(db_url)  # its own engine and pool, like another `footfall serve`
    created: list[int] = []
    try:

        def run(database: Database) -> None:
            while n := revisions.notify(database, clock=clock, limit=3):
                created.append(n)

        threads = [threading.Thread(target=run, args=(d,)) for d in (db, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        second.dispose()
    assert sum(created) == 20
    with db.read() as conn:
        bodies = conn.execute(select(webhook_deliveries.c.body)).scalars().all()
    hours = [json.loads(b)["hour"] for b in bodies]
    assert len(hours) == len(set(hours)) == 20


def test_a_crash_mid_announcement_loses_and_doubles_nothing(
    db: Database, shop: Site, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(at(TODAY, 23))
    ingest_directly(
        db, shop.location_id, [event(i, when=at(TODAY, i, 30)) for i in range(1, 6)], clock=clock
    )
    webhooks.create_endpoint(
        db, location_id=shop.location_id, url=receiver.url, kind="revisions", allow_private=True
    )
    clock.advance(60)
    real = revisions._announce
    calls = 0

    def dies_on_the_third(*args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt("the process is killed")  # not an Exception: no savepoint
        return real(*args)

    monkeypatch.setattr(revisions, "_announce", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        revisions.notify(db, clock=clock)
    monkeypatch.setattr(revisions, "_announce", real)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one() == 0
    assert revisions.notify(db, clock=clock) == 5  # all of them, once
    assert revisions.notify(db, clock=clock) == 0
