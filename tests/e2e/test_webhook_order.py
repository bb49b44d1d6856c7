"""One delivery in flight per endpoint across dispatchers (README, Webhooks: "each
endpoint is served in order"), on both engines: two dispatchers, each with its own
database connections as two server processes would have, drain one endpoint's queue to a
real receiver on loopback; the receiver never has two of its deliveries at once, gets
them in the order they were queued, each exactly once."""

from __future__ import annotations

import itertools

import pytest

from footfall.services import webhooks
from footfall.services.dispatcher import Dispatcher
from footfall.store.db import Database
from tests.conftest import Site
from tests.e2e.test_webhooks import DispatcherThread, _attempts, _wait_until
from tests.helpers import event, ingest_directly
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.slow

DELAY = 0.05  # the receiver's time to answer: an overlap would show as a shorter gap


def test_two_dispatchers_never_have_two_deliveries_of_one_endpoint_in_flight(
    db: Database, db_url: str, site: Site
) -> None:
    receiver = Receiver(lambda _n: Answer(200, delay=DELAY)).start()
    own = [Database(db_url), Database(db_url)]
    try:
        endpoint = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        for n in range(30):  # one delivery per batch, queued in this order
            ingest_directly(db, site.location_id, [event(n + 1)])
        queued = [
            d.webhook_id
            for d in sorted(
                webhooks.list_deliveries(db, endpoint_id=endpoint.id), key=lambda d: d.id
            )
        ]
        assert len(queued) == 30

        def dispatcher(database: Database) -> Dispatcher:
            return Dispatcher(database, allow_private=True, timeout=5, poll_interval=0.01)

        with DispatcherThread(dispatcher(own[0])), DispatcherThread(dispatcher(own[1])):
            _wait_until(
                lambda: all(
                    d.status == "delivered"
                    for d in webhooks.list_deliveries(db, endpoint_id=endpoint.id)
                ),
                "every delivery to be delivered",
            )
    finally:
        receiver.stop()
        for database in own:
            database.dispose()
    arrivals = sorted(receiver.received, key=lambda r: r.at)
    # A next request can leave a dispatcher only after the answer to the previous one
    # came back, which the receiver sends DELAY after that one arrived.
    overlaps = [
        (a.webhook_id, b.webhook_id) for a, b in itertools.pairwise(arrivals) if b.at < a.at + DELAY
    ]
    assert overlaps == []
    assert [r.webhook_id for r in arrivals] == queued  # in order, each once
    assert len(_attempts(db, endpoint.id)) == 30
