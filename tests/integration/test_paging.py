"""Paging /events with after_id never misses an event, even one committed concurrently
(on PostgreSQL a sequence value drawn earlier can commit later: ids are drawn under the
location's row lock so that cannot happen within a location)."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import select

from footfall.domain.ingest import EventRow
from footfall.services.ingest import CheckedBatch, Ingest
from footfall.store import events as event_store
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.partitions import PartitionSet, week_of
from footfall.store.schema import events
from tests.conftest import RunningServer, Site
from tests.helpers import Signer, event, ok, post_events, put_config, recent


def test_concurrent_ingest_never_escapes_an_after_id_reader(
    server: RunningServer, http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    writers_done = threading.Event()

    def writer(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for batch in range(25):
                base = number * 100_000 + batch * 100
                # Old and new event times alike: late events must not be missed either.
                events = [event(base + i, when=recent(i * 300)) for i in range(100)]
                ok(post_events(client, site.ingest_token, events))

    signer = Signer(site.public_key, site.secret)
    seen: list[int] = []
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()

    def wait_for_writers() -> None:
        for thread in threads:
            thread.join()
        writers_done.set()

    threading.Thread(target=wait_for_writers).start()
    after = 0
    while True:
        finished = writers_done.is_set()  # read before the page: a final empty page counts
        page = ok(signer.get(http, "/events", f"after_id={after}&limit=300"))
        seen.extend(e["record_id"] for e in page)
        if page:
            ids = [e["id"] for e in page]
            assert ids == sorted(ids)
            assert ids[0] > after
            after = ids[-1]
        elif finished:
            break
    expected = {
        n * 100_000 + b * 100 + i for n in range(1, 5) for b in range(25) for i in range(100)
    }
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


def test_ids_are_drawn_under_the_location_lock(db: Database, site: Site) -> None:
    """A batch that starts while another holds its location waits for that commit, so its
    ids are greater and it commits later: id order is commit order within a location."""
    ingest = Ingest(db)

    def row(record_id: int) -> EventRow:
        return (
            site.location_id,
            record_id,
            "TripwireCrossed",
            "t-enter",
            "cam-door",
            1,
            "Unknown",
            "",
            "",
            "",
            0,
            1_700_000_000_000,
        )

    second_done = threading.Event()

    def second() -> None:
        ingest.store_batches([CheckedBatch(site.location_id, 0, [row(2)])])
        second_done.set()

    PartitionSet(db).ensure([week_of(1_700_000_000_000)])  # its partition (PostgreSQL)
    try:
        with db.write() as conn:
            location_store.lock_and_touch(conn, site.location_id, 0)
            event_store.insert_new_events(conn, site.location_id, [row(1)])
            worker = threading.Thread(target=second)
            worker.start()
            assert not second_done.wait(0.3)  # blocked behind the first batch's lock
        worker.join(timeout=30)
        assert second_done.is_set()
        with db.read() as conn:
            ids = dict(conn.execute(select(events.c.record_id, events.c.id)).all())
        assert ids[2] > ids[1]
    finally:
        ingest.close()
