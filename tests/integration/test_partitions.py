"""PostgreSQL keeps events in one partition per UTC week (store/partitions.py): ingest and
the retention job create them, retention drops whole weeks, and none of it loses, doubles or
blocks an event. SQLite has one plain table (these tests skip there, saying so)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from itertools import repeat

import msgspec
import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from footfall.domain.times import to_ms
from footfall.services.ingest import Ingest
from footfall.services.retention import WEEKS_AHEAD, create_partitions_ahead, purge_expired_events
from footfall.store.db import Database
from footfall.store.locations import get_location
from footfall.store.migrate import _config, upgrade
from footfall.store.partitions import MS_PER_WEEK, partition_name, partition_weeks, week_of
from tests.conftest import PG_SECRET_KEY, Site
from tests.helpers import event, ingest_directly

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgresql_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite keeps one events table; partitions are PostgreSQL's")


def _at(moment: datetime) -> int:
    return to_ms(moment)


def _weeks(db: Database) -> list[int]:
    with db.read() as conn:
        return sorted(partition_weeks(conn))


def _where_stored(db: Database) -> dict[int, str]:
    """record_id -> the partition holding it."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT record_id, tableoid::regclass::text FROM events"))
        return {int(r): str(p) for r, p in rows}


def test_each_event_lands_in_the_partition_of_its_utc_week(db: Database, site: Site) -> None:
    moments = [NOW - timedelta(days=40), NOW - timedelta(minutes=1), NOW.replace(hour=0)]
    batch = [event(i, when=m) for i, m in enumerate(moments)]

    ingest_directly(db, site.location_id, batch, clock=lambda: _at(NOW), retention_days=90)

    # Only the weeks that hold events: a backfill 40 days back creates nothing in between.
    assert _weeks(db) == sorted({week_of(_at(m)) for m in moments})
    assert len(_weeks(db)) == 2
    assert _where_stored(db) == {i: partition_name(week_of(_at(m))) for i, m in enumerate(moments)}
    assert partition_name(week_of(_at(NOW))) == "events_p20261123"  # that Wednesday's Monday


def test_the_retention_run_creates_the_next_week_ahead(db: Database) -> None:
    assert create_partitions_ahead(db, clock=lambda: _at(NOW)) == WEEKS_AHEAD
    this_week = week_of(_at(NOW))
    assert _weeks(db) == [this_week + k * MS_PER_WEEK for k in range(WEEKS_AHEAD)]
    assert create_partitions_ahead(db, clock=lambda: _at(NOW)) == 0  # idempotent


def test_retention_drops_whole_weeks_and_keeps_the_week_holding_the_cutoff(
    db: Database, site: Site
) -> None:
    # Days before NOW. The cutoff, NOW - 90 days, is Thursday 2026-08-27 12:00: 95 days
    # (the Saturday before) is in the week before its week, 90.25 in its week.
    ages = [120, 95, 90.25, 10]
    for i, age in enumerate(ages):
        then = NOW - timedelta(days=age)
        arrival = repeat(_at(then + timedelta(minutes=5))).__next__  # a fixed clock
        ingest_directly(
            db, site.location_id, [event(i, when=then)], clock=arrival, retention_days=90
        )

    assert purge_expired_events(db, 90, clock=lambda: _at(NOW)) == 2

    kept = {week_of(_at(NOW - timedelta(days=a))) for a in (90.25, 10)}
    ahead = {week_of(_at(NOW)) + k * MS_PER_WEEK for k in range(WEEKS_AHEAD)}
    assert set(_weeks(db)) == kept | ahead
    with db.read() as conn:  # dropped, not emptied: the tables themselves are gone
        for age in (120, 95):
            name = partition_name(week_of(_at(NOW - timedelta(days=age))))
            assert conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None
    assert sorted(_where_stored(db)) == [2, 3]


def test_an_interrupted_detach_is_finished_by_the_next_run(db: Database, site: Site) -> None:
    old = NOW - timedelta(days=100)
    ingest_directly(
        db, site.location_id, [event(1, when=old)], clock=lambda: _at(old), retention_days=90
    )
    ingest_directly(db, site.location_id, [event(2)], retention_days=90)
    name = partition_name(week_of(_at(old)))
    # DETACH CONCURRENTLY waits for every snapshot older than its first phase; cancelled
    # meanwhile (here by a statement timeout, in life by a crash) it leaves the partition
    # "detach pending".
    dsn = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(dsn) as reader, psycopg.connect(dsn, autocommit=True) as detacher:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT count(*) FROM events")
        detacher.execute("SET statement_timeout = '500ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            detacher.execute(f"ALTER TABLE events DETACH PARTITION {name} CONCURRENTLY")
        reader.rollback()
    with db.read() as conn:
        assert partition_weeks(conn)[week_of(_at(old))] is True  # pending

    assert purge_expired_events(db, 90, clock=lambda: _at(NOW)) == 1

    assert week_of(_at(old)) not in _weeks(db)
    assert sorted(_where_stored(db)) == [2]


def test_a_detached_table_left_by_a_crash_is_dropped_by_the_next_run(
    db: Database, site: Site
) -> None:
    old = NOW - timedelta(days=100)
    ingest_directly(
        db, site.location_id, [event(1, when=old)], clock=lambda: _at(old), retention_days=90
    )
    name = partition_name(week_of(_at(old)))
    with db.write() as conn:  # the run detached it, then died before DROP
        conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name}"))

    purge_expired_events(db, 90, clock=lambda: _at(NOW))

    with db.read() as conn:
        assert conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is None


def test_a_batch_for_a_week_another_process_dropped_is_still_stored(
    db: Database, site: Site
) -> None:
    """A retention run elsewhere drops a week this process still believes exists (a batch
    right at the cutoff): the batch is stored all the same, in a recreated partition."""
    then = NOW - timedelta(days=3)
    ingest_directly(db, site.location_id, [], clock=lambda: _at(NOW))  # declares the config
    with db.read() as conn:
        location = get_location(conn, site.location_id)
    assert location is not None
    ingest = Ingest(db, lambda: _at(NOW), retention_days=90)
    try:
        first = ingest.post_events(location, msgspec.json.encode([event(1, when=then)]))
        name = partition_name(week_of(_at(then)))
        with db.write() as conn:  # "another process": its retention run drops the week
            conn.execute(text(f"ALTER TABLE events DETACH PARTITION {name}"))
            conn.execute(text(f"DROP TABLE {name}"))

        second = ingest.post_events(location, msgspec.json.encode([event(2, when=then)]))
    finally:
        ingest.close()

    assert [(r.accepted, r.duplicates) for r in (first, second)] == [(1, 0), (1, 0)]
    assert _where_stored(db) == {2: name}


def test_duplicates_are_found_in_every_partition(db: Database, site: Site) -> None:
    days = [NOW - timedelta(days=d, hours=h) for d in (0, 5, 30) for h in (1, 2)]
    batch = [event(10 + i, when=m) for i, m in enumerate(days)]
    clock = lambda: _at(NOW)  # noqa: E731
    first = ingest_directly(db, site.location_id, batch, clock=clock, retention_days=90)
    again = ingest_directly(db, site.location_id, batch, clock=clock, retention_days=90)
    # The same record ids at other times (other weeks): still the stored events' duplicates.
    moved = [dict(e, event_time=(NOW - timedelta(days=60)).isoformat()) for e in batch]
    moved_again = ingest_directly(db, site.location_id, moved, clock=clock, retention_days=90)

    assert [(r.accepted, r.duplicates) for r in first + again + moved_again] == [
        (6, 0),
        (0, 6),
        (0, 6),
    ]
    assert sorted(_where_stored(db)) == list(range(10, 16))


def test_a_batch_whose_ids_span_many_stored_ones_is_checked_exactly(
    db: Database, site: Site
) -> None:
    """Ids interleaved with thousands of stored ones: the bounded range scan gives up and
    the exact lookup decides."""
    clock = lambda: _at(NOW)  # noqa: E731
    stored = [event(2 * i, when=NOW - timedelta(seconds=i)) for i in range(1, 3001)]
    ingest_directly(db, site.location_id, stored, clock=clock, retention_days=90)
    mixed = [event(2 * i + (i % 2), when=NOW - timedelta(seconds=i)) for i in range(1, 3001, 7)]

    result = ingest_directly(db, site.location_id, mixed, clock=clock, retention_days=90)

    odd = sum(1 for e in mixed if e["record_id"] % 2)
    assert (result[0].accepted, result[0].duplicates) == (odd, len(mixed) - odd)
    assert len(_where_stored(db)) == 3000 + odd


def test_concurrent_batches_of_one_location_are_stored_exactly_once(
    db: Database, site: Site
) -> None:
    """Four threads sending the same batches (agents retrying after timeouts) across weeks."""
    batches = [
        [
            event(1000 + 100 * b + i, when=NOW - timedelta(days=7 * (i % 3), minutes=b))
            for i in range(50)
        ]
        for b in range(8)
    ]
    clock = lambda: _at(NOW)  # noqa: E731
    ingest_directly(db, site.location_id, [event(1, when=NOW)], clock=clock, retention_days=90)
    totals: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        for result in ingest_directly(
            db, site.location_id, *batches, clock=clock, retention_days=90
        ):
            with lock:
                totals.append(result.accepted)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(totals) == 400
    assert len(_where_stored(db)) == 401


def test_the_migration_moves_existing_events_into_week_partitions(
    blank_pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTFALL_SECRET_KEY", PG_SECRET_KEY)
    db = Database(blank_pg_url)
    try:
        config = _config()
        with db.engine.begin() as conn:  # a database of the release before partitioning
            config.attributes["connection"] = conn
            config.attributes["keyring"] = lambda: db.keyring
            command.upgrade(config, "0008")
        # This week, the one before, and one in 1969 (floored to its Monday, not to 1970).
        times = [_at(NOW), _at(NOW) - MS_PER_WEEK, -5 * 86_400_000 + 1]
        with db.engine.begin() as conn:
            for i, when in enumerate(times):
                conn.execute(
                    text(
                        "INSERT INTO events (location_id, record_id, event_type, trigger_id, "
                        "channel_id, object_id, origin, suborigin, age_range, gender, "
                        "snapshot_id, event_time) VALUES (1, :r, 'TripwireCrossed', 't', 'c', "
                        "1, 'Unknown', '', '', '', 0, :t)"
                    ),
                    {"r": 100 + i, "t": when},
                )
            before = conn.execute(text("SELECT id, record_id FROM events ORDER BY id")).all()

        upgrade(db)

        with db.read() as conn:
            after = conn.execute(text("SELECT id, record_id FROM events ORDER BY id")).all()
            assert sorted(partition_weeks(conn)) == sorted({week_of(t) for t in times})
        assert after == before  # same ids, same rows
        assert _where_stored(db)[102] == "events_p19691222"
    finally:
        db.dispose()
