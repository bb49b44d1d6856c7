"""One attempt at a time per delivery, within one deadline, whatever the receiver does
(docs/api.md, Webhooks), on both engines: a receiver trickling its answer is cut at the deadline,
two
dispatchers never have the same delivery in flight, an attempt whose claim lapsed is not
recorded, and an address httpx cannot use fails its attempts without stopping the rest."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from footfall.domain.times import now_ms
from footfall.services import webhooks
from footfall.services.dispatcher import Dispatcher
from footfall.store import webhooks as store
from footfall.store.db import Database
from footfall.store.schema import webhook_endpoints
from tests.conftest import Site
from tests.e2e.test_webhooks import DispatcherThread, _attempts, _wait_until
from tests.helpers import event, ingest_directly
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.slow


def test_a_trickling_receiver_is_cut_at_the_deadline_by_either_of_two_dispatchers(
    db: Database, site: Site
) -> None:
    # 32 bytes, one every 0.2 s: 6.4 s in all, each read well inside any per-read timeout.
    receiver = Receiver(lambda _n: Answer(200, trickle=0.2)).start()
    try:
        endpoint = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        ingest_directly(db, site.location_id, [event(1)])  # one delivery per batch
        ingest_directly(db, site.location_id, [event(2)])
        schedule = (0.1, 0.1, 0.1)

        def dispatcher() -> Dispatcher:
            return Dispatcher(
                db, allow_private=True, timeout=0.5, schedule=schedule, poll_interval=0.02
            )

        with DispatcherThread(dispatcher()), DispatcherThread(dispatcher()):
            _wait_until(
                lambda: all(
                    d.status == "failed"
                    for d in webhooks.list_deliveries(db, endpoint_id=endpoint.id)
                ),
                "both deliveries to exhaust their schedule",
            )
        # The receiver logs a request once its handler stops trickling into the closed
        # connection, a moment after the dispatcher gave up on it.
        receiver.wait_for(lambda got: len(got) >= len(_attempts(db, endpoint.id)), timeout=15)
    finally:
        receiver.stop()
    attempts = _attempts(db, endpoint.id)
    by_delivery = {
        delivery: list(rows)
        for delivery, rows in itertools.groupby(
            sorted(attempts, key=lambda a: (a["delivery_id"], a["attempt"])),
            key=lambda a: a["delivery_id"],
        )
    }
    assert len(by_delivery) == 2
    for rows in by_delivery.values():
        assert [a["attempt"] for a in rows] == [1, 2, 3, 4]  # first try + 3 retries
        for a in rows:
            assert a["status"] is None
            assert "timed out after 0.5 s" in a["error"]
            assert 500 <= a["latency_ms"] < 1500  # cut at the deadline, not after 6.4 s
        for a, b in itertools.pairwise(rows):
            assert b["at"] >= a["at"] + a["latency_ms"]  # never two in flight
    # Every request the receiver saw is one of those recorded attempts: no second copy.
    assert len(receiver.received) == len(attempts) == 8


def test_an_attempt_whose_claim_lapsed_is_not_recorded(db: Database, site: Site) -> None:
    endpoint = webhooks.create_endpoint(
        db, allow_private=True, location_id=site.location_id, url="http://127.0.0.1:9/hook"
    )
    ingest_directly(db, site.location_id, [event(1)])
    start = now_ms() + 1000
    with db.write() as conn:
        stalled = store.claim_next(conn, endpoint.location_id, endpoint.id, start, lease_ms=1000)
    assert stalled is not None
    # Its lease ends while it is stalled: another dispatcher claims the delivery again.
    with db.write() as conn:
        assert (
            store.claim_next(conn, endpoint.location_id, endpoint.id, start + 500, lease_ms=1000)
            is None
        )
        current = store.claim_next(
            conn, endpoint.location_id, endpoint.id, start + 1001, lease_ms=1000
        )
    assert current is not None
    assert current.id == stalled.id

    def record(claim: store.Claimed, at: int, now: int) -> bool:
        with db.write() as conn:
            return store.record_attempt(
                conn,
                claim,
                at=at,
                status=200,
                latency_ms=5,
                error=None,
                outcome="delivered",
                next_attempt_at=now,
                now=now,
            )

    assert not record(stalled, start, start + 1200)
    assert _attempts(db, endpoint.id) == []
    [delivery] = webhooks.list_deliveries(db, endpoint_id=endpoint.id)
    assert delivery.status == "pending"  # still the current claim's to finish
    assert record(current, start + 1001, start + 1300)
    assert not record(current, start + 1001, start + 1300)  # a claim records once
    [delivery] = webhooks.list_deliveries(db, endpoint_id=endpoint.id)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert [a["attempt"] for a in _attempts(db, endpoint.id)] == [1]


def test_a_stored_url_httpx_cannot_use_fails_its_attempts_and_the_rest_go_on(
    db: Database, site: Site
) -> None:
    receiver = Receiver().start()
    try:
        broken = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url="http://127.0.0.1:9/x"
        )
        healthy = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        # Creation refuses such URLs today; an older release may have stored one.
        with db.write() as conn:
            conn.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == broken.id)
                .values(url="http://127.0.0.1:9/a\x01b")  # PostgreSQL cannot store NUL
            )
        ingest_directly(db, site.location_id, [event(1)])
        dispatcher = Dispatcher(
            db, allow_private=True, timeout=1.0, schedule=(0.05, 0.05), poll_interval=0.02
        )
        with DispatcherThread(dispatcher):
            _wait_until(
                lambda: (
                    [d.status for d in webhooks.list_deliveries(db, endpoint_id=broken.id)]
                    == ["failed"]
                ),
                "the broken endpoint's delivery to fail",
            )
            [first] = webhooks.list_deliveries(db, endpoint_id=broken.id)
            ingest_directly(db, site.location_id, [event(2)])
            # Recorded, not only received: the dispatcher writes the outcome after the answer.
            _wait_until(
                lambda: (
                    [d.status for d in webhooks.list_deliveries(db, endpoint_id=healthy.id)]
                    == ["delivered", "delivered"]
                ),
                "the healthy endpoint's deliveries to be recorded delivered",
            )
    finally:
        receiver.stop()
    attempts = [a for a in _attempts(db, broken.id) if a["delivery_id"] == first.id]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["status"] is None and "InvalidURL" in a["error"] for a in attempts)
    assert [d.status for d in webhooks.list_deliveries(db, endpoint_id=healthy.id)] == [
        "delivered",
        "delivered",
    ]
    assert len(receiver.received) == 2
