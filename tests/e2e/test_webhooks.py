"""Webhooks to real receivers on loopback (docs/api.md, Webhooks), on both engines."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from footfall.benchmarks.harness import ServerProcess
from footfall.cli.main import app
from footfall.config import Settings
from footfall.domain.times import format_utc, now_ms, parse_instant
from footfall.services import occupancy, webhooks
from footfall.services.dispatcher import Dispatcher
from footfall.store.db import Database
from footfall.store.schema import webhook_deliveries
from tests.conftest import RunningServer, Site, make_site
from tests.helpers import event, ingest_directly, ok, post_events, put_config, recent
from tests.webhook_receiver import Answer, Receiver, verify_standard_webhook

pytestmark = pytest.mark.slow


class DispatcherThread:
    """A Dispatcher running on its own event loop in a thread, for tests that drive it."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.task: asyncio.Task[None] | None = None

    def _run(self) -> None:
        self.task = self.loop.create_task(self.dispatcher.run())
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass
        finally:
            self.loop.close()

    def __enter__(self) -> DispatcherThread:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        while self.task is None:
            time.sleep(0.01)
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(timeout=30)


def expected_payload(sent: dict[str, Any], location_id: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(sent["event_time"]).astimezone(UTC)
    return {
        "record_id": sent["record_id"],
        "event_type": sent["event_type"],
        "snapshot_id": sent.get("snapshot_id", 0),
        "trigger_id": sent["trigger_id"],
        "origin": sent["origin"],
        "suborigin": sent["suborigin"],
        "age_range": sent.get("age_range", ""),
        "gender": sent.get("gender", ""),
        "id": None,
        "channel_id": sent["channel_id"],
        "object_id": sent["object_id"],
        "location_id": location_id,
        "event_time": moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}",
    }


# Every receiver here listens on loopback: these tests allow private targets explicitly
# (tests/e2e/test_ssrf.py shows that nothing else does).
LOOPBACK = {"FOOTFALL_WEBHOOK_ALLOW_PRIVATE": "1"}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, rate_limit=0, webhook_allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_every_event_arrives_exactly_as_specified_and_signed(
    server: RunningServer, http: httpx.Client, db: Database, site: Site, receiver: Receiver
) -> None:
    put_config(http, site.ingest_token)
    everything = webhooks.create_endpoint(
        db, allow_private=True, location_id=site.location_id, url=receiver.url
    )
    floor_only = Receiver().start()
    try:
        floor = webhooks.create_endpoint(
            db,
            allow_private=True,
            location_id=site.location_id,
            url=floor_only.url,
            channel_id="cam-floor",
        )
        assert everything.secret.startswith("whsec_")
        sent = [event(i, when=recent(i % 90), snapshot_id=-i) for i in range(1, 241)]
        sent += [
            event(
                1000 + i,
                trigger="t-shelf",
                event_type="RegionJoin",
                object_id=i,
                origin="Face",
                suborigin="",
                age_range="26 - 35",
                gender="Male",
            )
            for i in range(10)
        ]
        ok(post_events(http, site.ingest_token, sent))
        ok(post_events(http, site.ingest_token, sent[:50]))  # duplicates: nothing new to send
        receiver.wait_for(lambda got: sum(len(r.json) for r in got) >= len(sent))
        floor_only.wait_for(lambda got: sum(len(r.json) for r in got) >= 10)
        time.sleep(0.5)  # nothing more may arrive
        assert len(receiver.received) == 3  # ceil(250 / 100)
        assert all(len(r.json) <= 100 for r in receiver.received)
        by_record = {e["record_id"]: e for e in receiver.events()}
        assert len(receiver.events()) == len(sent)
        for original in sent:
            assert by_record[original["record_id"]] == expected_payload(original, site.location_id)
        assert [e["record_id"] for e in floor_only.events()] == list(range(1000, 1010))
        for got, secret in ((receiver, everything.secret), (floor_only, floor.secret)):
            for r in got.received:
                assert r.headers["content-type"] == "application/json"
                assert verify_standard_webhook(secret, r)
                assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 30
        assert len({r.webhook_id for r in receiver.received}) == 3
        # Each delivery's log entry says it was delivered on the first attempt.
        log = {d.webhook_id: d for d in webhooks.list_deliveries(db, endpoint_id=everything.id)}
        assert {r.webhook_id for r in receiver.received} == set(log)
        assert all(d.status == "delivered" and d.attempts == 1 for d in log.values())
    finally:
        floor_only.stop()


class ManualClock:
    """The dispatcher's clock, moved by the test: waits are checked exactly, not slept."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _delivery_next_at(db: Database, endpoint_id: int) -> int:
    from sqlalchemy import select

    from footfall.store.schema import webhook_deliveries

    with db.read() as conn:
        return int(
            conn.execute(
                select(webhook_deliveries.c.next_attempt_at).where(
                    webhook_deliveries.c.endpoint_id == endpoint_id
                )
            ).scalar_one()
        )


def test_retries_follow_the_schedule_until_the_receiver_recovers(db: Database, site: Site) -> None:
    """Refused, then 500, then a timeout, then 429 with Retry-After, then 200."""
    schedule = (0.3, 0.6, 0.9, 0.3, 5, 5, 5)

    def script(n: int) -> Answer:
        return (
            [Answer(500), Answer(200, delay=1.5), Answer(429, retry_after="2")][n]
            if n < 3
            else Answer(200)
        )

    receiver = Receiver(script)  # not started yet: connections are refused
    endpoint = webhooks.create_endpoint(
        db, allow_private=True, location_id=site.location_id, url=receiver.url
    )
    ingest_directly(db, site.location_id, [event(1)])
    clock = ManualClock(now_ms() + 1000)
    dispatcher = Dispatcher(
        db, allow_private=True, timeout=1.0, schedule=schedule, poll_interval=0.02, clock=clock
    )
    with DispatcherThread(dispatcher):
        _wait_until(lambda: len(_attempts(db, endpoint.id)) == 1, "the refused attempt")
        receiver.start()
        try:
            for count in (2, 3, 4, 5):
                # Nothing is attempted before its time; at its time, it is.
                clock.now = _delivery_next_at(db, endpoint.id) - 1
                time.sleep(0.1)
                assert len(_attempts(db, endpoint.id)) == count - 1
                clock.now += 1
                _wait_until(
                    lambda: len(_attempts(db, endpoint.id)) == count,  # noqa: B023 (awaited here)
                    f"attempt {count}",
                )
        finally:
            receiver.stop()
    [delivery] = webhooks.list_deliveries(db, endpoint_id=endpoint.id)
    assert delivery.status == "delivered"
    assert delivery.attempts == 5
    attempts = _attempts(db, endpoint.id)
    assert [a["status"] for a in attempts] == [None, 500, None, 429, 200]
    assert "ConnectError" in (attempts[0]["error"] or "")
    assert "timed out after 1 s" in (attempts[2]["error"] or "")
    # The receiver held its answer for 1.5 s: the attempt was cut at its 1 s deadline.
    assert 1000 <= attempts[2]["latency_ms"] < 1500
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(attempts)]
    # Each wait is the schedule's, from the end of the previous attempt (the clock stood
    # still during the attempts); Retry-After 2 s wins over the schedule's 0.3 s.
    assert gaps == [300, 600, 900, 2000]


def _attempts(db: Database, endpoint_id: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from footfall.store.schema import webhook_attempts, webhook_deliveries

    with db.read() as conn:
        rows = conn.execute(
            select(webhook_attempts)
            .join(webhook_deliveries, webhook_deliveries.c.id == webhook_attempts.c.delivery_id)
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .order_by(webhook_attempts.c.attempt)
        ).all()
    return [dict(r._mapping) for r in rows]


def test_exhausted_retries_fail_and_410_disables_until_enabled(
    db: Database, db_url: str, site: Site
) -> None:
    gone = Receiver(lambda _n: Answer(410)).start()
    broken = Receiver(lambda _n: Answer(500)).start()
    try:
        gone_endpoint = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=gone.url
        )
        broken_endpoint = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=broken.url
        )
        ingest_directly(db, site.location_id, [event(1)])
        dispatcher = Dispatcher(
            db, allow_private=True, timeout=1.0, schedule=(0.1, 0.1), poll_interval=0.05
        )
        with DispatcherThread(dispatcher):
            broken.wait_for(lambda got: len(got) >= 3)
            gone.wait_for(lambda got: len(got) >= 1)
            _wait_until(
                lambda: all(
                    d.status == "failed"
                    for endpoint_id in (gone_endpoint.id, broken_endpoint.id)
                    for d in webhooks.list_deliveries(db, endpoint_id=endpoint_id)
                ),
                "both deliveries to fail",
            )
            ingest_directly(db, site.location_id, [event(2)])
        # Not queued for a disabled endpoint at all; the broken one got its own.
        assert len(webhooks.list_deliveries(db, endpoint_id=gone_endpoint.id)) == 1
        assert len(webhooks.list_deliveries(db, endpoint_id=broken_endpoint.id)) == 2
        first = broken.received[0].webhook_id
        assert sum(r.webhook_id == first for r in broken.received) == 3  # 1 + 2 retries
        assert len(gone.received) == 1
        runner = CliRunner()
        listed = json.loads(
            runner.invoke(
                app, ["webhooks", "deliveries", "--failed", "--json", "--db", db_url]
            ).stdout
        )
        failed = {
            d["endpoint_id"]: d
            for d in listed["deliveries"]
            if d["webhook_id"] in (first, gone.received[0].webhook_id)
        }
        assert set(failed) == {gone_endpoint.id, broken_endpoint.id}
        assert set(failed[gone_endpoint.id]) == {
            "id",
            "endpoint_id",
            "webhook_id",
            "status",
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "created_at",
        }
        assert failed[gone_endpoint.id]["last_status"] == 410
        assert failed[broken_endpoint.id]["attempts"] == 3
        [endpoint] = [e for e in webhooks.list_endpoints(db) if e.id == gone_endpoint.id]
        assert not endpoint.enabled
        refused = runner.invoke(
            app, ["webhooks", "replay", str(failed[gone_endpoint.id]["id"]), "--db", db_url]
        )
        assert refused.exit_code == 1
        assert "disabled" in refused.stderr
        enabled = runner.invoke(
            app, ["webhooks", "enable", str(gone_endpoint.id), "--json", "--db", db_url]
        )
        assert json.loads(enabled.stdout) == {"id": gone_endpoint.id, "enabled": True}
        replayed = runner.invoke(
            app,
            ["webhooks", "replay", str(failed[gone_endpoint.id]["id"]), "--json", "--db", db_url],
        )
        assert json.loads(replayed.stdout) == {
            "id": failed[gone_endpoint.id]["id"],
            "status": "pending",
        }
        gone.answer = lambda _n: Answer(200)
        with DispatcherThread(Dispatcher(db, allow_private=True, timeout=1.0, poll_interval=0.05)):
            gone.wait_for(lambda got: any(r.status == 200 for r in got))
        assert gone.received[-1].webhook_id == gone.received[0].webhook_id  # same delivery
    finally:
        gone.stop()
        broken.stop()


def test_serve_killed_mid_delivery_loses_nothing(db_url: str, db: Database, site: Site) -> None:
    slow = Receiver(lambda n: Answer(200, delay=1.0 if n < 3 else 0.0)).start()
    server = ServerProcess(db_url, {**LOOPBACK, "FOOTFALL_WEBHOOK_TIMEOUT": "2"})
    try:
        webhooks.create_endpoint(db, allow_private=True, location_id=site.location_id, url=slow.url)
        server.start()
        with httpx.Client(base_url=server.url) as http:
            put_config(http, site.ingest_token)
            for batch in range(5):
                ok(
                    post_events(
                        http, site.ingest_token, [event(batch * 100 + i) for i in range(100)]
                    )
                )
        # Kill it while a delivery is on the wire.
        deadline = time.monotonic() + 20
        while not slow._in_flight:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        server.kill()
        server.start()
        slow.wait_for(
            lambda got: (
                {e["record_id"] for r in got if r.status == 200 for e in r.json} >= set(range(500))
            ),
            timeout=60,
        )
    finally:
        server.close()
        slow.stop()
    bodies: dict[str, bytes] = {}
    for r in slow.received:
        assert bodies.setdefault(r.webhook_id, r.body) == r.body  # a duplicate is the same
    assert len(bodies) == 5  # one delivery per batch, whatever was sent twice


def test_two_dispatcher_processes_never_attempt_a_delivery_twice_at_once(
    engine: str, db_url: str, db: Database, site: Site
) -> None:
    if engine != "postgresql":
        pytest.skip("several dispatcher processes share a database only on PostgreSQL")
    receiver = Receiver(lambda _n: Answer(200, delay=0.05)).start()
    servers = [ServerProcess(db_url, LOOPBACK), ServerProcess(db_url, LOOPBACK)]
    try:
        webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        second = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        for server in servers:
            server.start()
        with httpx.Client(base_url=servers[0].url) as a, httpx.Client(base_url=servers[1].url) as b:
            put_config(a, site.ingest_token)
            for n in range(40):
                client = a if n % 2 else b
                ok(post_events(client, site.ingest_token, [event(n * 10 + i) for i in range(10)]))
        receiver.wait_for(lambda got: len(got) >= 80, timeout=60)
        time.sleep(1.0)
    finally:
        for server in servers:
            server.close()
        receiver.stop()
    by_id: dict[str, list[Any]] = {}
    for r in receiver.received:
        by_id.setdefault(r.webhook_id, []).append(r)
    assert len(by_id) == 80
    for attempts in by_id.values():
        for x in attempts:
            for y in attempts:
                assert x is y or x.finished <= y.at or y.finished <= x.at
    assert all(len(v) == 1 for v in by_id.values())  # no failures, so never twice
    del second


def queued_at(db: Database, endpoint_id: int) -> list[int]:
    """When each delivery to the endpoint was queued (ms), in order."""
    with db.read() as conn:
        return [
            int(at)
            for (at,) in conn.execute(
                select(webhook_deliveries.c.created_at)
                .where(webhook_deliveries.c.endpoint_id == endpoint_id)
                .order_by(webhook_deliveries.c.created_at)
            )
        ]


def test_occupancy_and_queue_changes_are_coalesced_and_signed(
    http: httpx.Client, db: Database, server: RunningServer
) -> None:
    site = make_site(db, timezone="Europe/Paris")
    put_config(http, site.ingest_token)
    # The events are an hour old: a daily reset between them and now (at Paris midnight)
    # would zero the counter, so it resets half a day away from now.
    far_from_now = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(hours=12)).strftime("%H:%M")
    counter = occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop",
        enter=("t-enter",),
        exit_=("t-exit",),
        capacity=9,
        reset=far_from_now,
    )
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Q", zone="t-shelf")
    ok(post_events(http, site.ingest_token, [event(1)]))  # the value before the endpoint
    receiver = Receiver().start()
    try:
        occupancy_hook = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url, kind="occupancy"
        )
        queue_hook = webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url, kind="queue"
        )
        time.sleep(1.2)
        assert receiver.received == []  # the current value waits for its next change
        burst_started = time.monotonic()
        for i in range(2, 12):  # ten entries over ~1.5 s
            ok(post_events(http, site.ingest_token, [event(i)]))
            time.sleep(0.15)
        last_change = time.monotonic()
        join = event(50, trigger="t-shelf", event_type="RegionJoin", object_id=5)
        ok(post_events(http, site.ingest_token, [join]))
        receiver.wait_for(lambda got: any(r.json.get("occupancy") == 11 for r in got))
        receiver.wait_for(lambda got: any(r.json.get("length") == 1 for r in got))
        final = next(r for r in receiver.received if r.json.get("occupancy") == 11)
        assert final.at - last_change < 2.0
        occupancy_deliveries = [r for r in receiver.received if "occupancy_id" in r.json]
        assert 1 <= len(occupancy_deliveries) <= 3  # coalesced, not 10
        assert occupancy_deliveries[0].at >= burst_started
        # At most one per second, as the server queued them (arrival times also carry the
        # dispatcher's and the network's jitter, which a loaded machine stretches).
        queued = queued_at(db, occupancy_hook.id)
        assert len(queued) == len(occupancy_deliveries)
        assert all(b - a >= webhooks.COALESCE_MS for a, b in itertools.pairwise(queued))
        assert set(final.json) == {
            "occupancy_id",
            "name",
            "location_id",
            "occupancy",
            "capacity",
            "event_time",
        }
        assert final.json["occupancy_id"] == counter.id
        assert final.json["capacity"] == 9
        assert verify_standard_webhook(occupancy_hook.secret, final)
        [queue_change] = [r for r in receiver.received if "queue_id" in r.json]
        assert queue_change.json == {
            "queue_id": queue.id,
            "name": "Q",
            "location_id": site.location_id,
            "length": 1,
            "wait_time": 0.0,
            "event_time": format_utc(parse_instant(join["event_time"])),  # when it changed
        }
        assert verify_standard_webhook(queue_hook.secret, queue_change)
    finally:
        receiver.stop()


def test_cli_create_list_delete_and_bad_input(db_url: str, db: Database, site: Site) -> None:
    ingest_directly(db, site.location_id)
    runner = CliRunner()
    loc = str(site.location_id)

    def run(*args: str) -> Any:
        return runner.invoke(app, [*args, "--db", db_url])

    made = json.loads(
        run(
            "webhooks",
            "create",
            "--location",
            loc,
            "--url",
            "https://example.test/hook",
            "--channel",
            "cam-door",
            "--json",
        ).stdout
    )
    assert set(made) >= {"id", "secret", "location_id", "channel_id", "kind", "url", "enabled"}
    assert made["kind"] == "events"
    assert made["channel_id"] == "cam-door"
    listed = json.loads(run("webhooks", "list", "--json").stdout)["endpoints"]
    assert [e["id"] for e in listed] == [made["id"]]
    assert "secret" not in listed[0]
    for args, words in [
        (["--url", "ftp://x"], "expected an http:// or https:// URL"),
        (["--url", "http://x", "--kind", "people"], "--kind 'people'"),
        (
            ["--url", "http://x", "--kind", "occupancy", "--channel", "cam-door"],
            "cover a whole location",
        ),
        (["--url", "http://x", "--channel", "cam-nope"], "no channel 'cam-nope'"),
    ]:
        refused = run("webhooks", "create", "--location", loc, *args)
        assert refused.exit_code == 1
        assert words in refused.stderr, refused.stderr
    assert json.loads(run("webhooks", "delete", str(made["id"]), "--json").stdout) == {
        "id": made["id"],
        "deleted": True,
    }
    assert run("webhooks", "delete", str(made["id"])).exit_code == 1
    assert run("webhooks", "replay", "999").exit_code == 1


def test_an_endpoint_created_between_batches_gets_the_next_one(
    server: RunningServer, http: httpx.Client, db: Database, site: Site, receiver: Receiver
) -> None:
    """Ingest caches a location's endpoints; creating one must still catch the next batch."""
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(1)]))  # cached: no endpoint yet
    endpoint = webhooks.create_endpoint(
        db, allow_private=True, location_id=site.location_id, url=receiver.url
    )
    ok(post_events(http, site.ingest_token, [event(2)]))
    receiver.wait_for(lambda got: len(got) >= 1)
    assert [e["record_id"] for e in receiver.events()] == [2]
    webhooks.enable_endpoint(db, endpoint.id, enabled=False)
    ok(post_events(http, site.ingest_token, [event(3)]))
    time.sleep(0.5)
    assert [e["record_id"] for e in receiver.events()] == [2]
