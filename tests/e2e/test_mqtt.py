"""The MQTT publisher against real Mosquitto brokers, on both engines: values published
and retained, Home Assistant discovery configs, coalescing, a broker restart, and one
publisher among several processes."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from footfall.config import Settings
from footfall.mqtt.publisher import MetricsPublisher
from footfall.services import occupancy
from footfall.store.db import Database
from footfall.store.occupancy import CounterRow
from tests.conftest import RunningServer, Site
from tests.helpers import event, ingest_directly, iso, ok, post_events
from tests.mqtt_helpers import PrivateBroker, Watcher, private_broker, topic_prefix

__all__ = ["private_broker", "topic_prefix"]  # fixtures

pytestmark = pytest.mark.slow

WEBHOOK_OCCUPANCY_KEYS = {
    "occupancy_id",
    "name",
    "location_id",
    "occupancy",
    "capacity",
    "event_time",
}
WEBHOOK_QUEUE_KEYS = {"queue_id", "name", "location_id", "length", "wait_time", "event_time"}


def just_now(seconds_ago: float = 5) -> str:
    return iso(datetime.now(UTC) - timedelta(seconds=seconds_ago))


def counter_for(db: Database, site: Site) -> CounterRow:
    ingest_directly(db, site.location_id)  # declares the store's cameras and triggers
    # The daily reset half a day away: every event of the test is after the last one.
    reset = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    return occupancy.create_counter(
        db,
        location_id=site.location_id,
        name="Shop floor",
        enter=("t-enter",),
        exit_=("t-exit",),
        capacity=50,
        reset=reset,
    )


def crossing(record_id: int, trigger: str = "t-enter") -> dict[str, object]:
    return event(record_id, trigger=trigger, when=just_now())


def value_of(watcher: Watcher, topic: str) -> dict[str, object] | None:
    latest = watcher.latest(topic)
    return json.loads(latest) if latest else None


def test_values_and_discovery_configs_are_published_and_retained(
    db_url: str, db: Database, site: Site, topic_prefix: str
) -> None:
    prefix, discovery = f"{topic_prefix}/footfall", f"{topic_prefix}/homeassistant"
    settings = Settings(
        database_url=db_url,
        rate_limit=0,
        mqtt_url="mqtt://127.0.0.1:1883",
        mqtt_topic_prefix=prefix,
        mqtt_discovery_prefix=discovery,
    )
    counter = counter_for(db, site)
    queue = occupancy.create_queue(db, location_id=site.location_id, name="Shelf", zone="t-shelf")
    loc = site.location_id
    state = f"{prefix}/{loc}/occupancy/{counter.id}"
    queue_state = f"{prefix}/{loc}/queue/{queue.id}"
    object_id = f"{topic_prefix}_footfall_{loc}_occupancy_{counter.id}"
    config_topic = f"{discovery}/sensor/{object_id}/config"
    watcher = Watcher([f"{topic_prefix}/#"])
    try:
        with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
            watcher.wait_for("the first values", lambda: watcher.latest(state) is not None)
            assert value_of(watcher, state) == {
                "occupancy_id": counter.id,
                "name": "Shop floor",
                "location_id": loc,
                "occupancy": 0,
                "capacity": 50,
                "event_time": value_of(watcher, state)["event_time"],  # type: ignore[index]
            }
            assert watcher.latest(f"{prefix}/status") == b"online"

            ok(post_events(http, site.ingest_token, [crossing(1), crossing(2), crossing(3)]))
            ok(post_events(http, site.ingest_token, [crossing(4, "t-exit")]))
            joins = [
                event(10 + i, trigger="t-shelf", event_type="RegionJoin", when=just_now())
                for i in range(2)
            ]
            ok(post_events(http, site.ingest_token, joins))
            watcher.wait_for(
                "occupancy 2 and queue length 2",
                lambda: (
                    (value_of(watcher, state) or {}).get("occupancy") == 2
                    and (value_of(watcher, queue_state) or {}).get("length") == 2
                ),
            )
            assert set(value_of(watcher, state) or {}) == WEBHOOK_OCCUPANCY_KEYS
            assert set(value_of(watcher, queue_state) or {}) == WEBHOOK_QUEUE_KEYS

            config = json.loads(watcher.latest(config_topic) or b"{}")
            assert config["state_topic"] == state
            assert config["value_template"] == "{{ value_json.occupancy }}"
            assert config["unique_id"] == object_id
            assert config["unit_of_measurement"] == "objects"
            assert config["availability_topic"] == f"{prefix}/status"
            assert config["device"]["name"] == "Store"
            queue_config = watcher.latest(
                f"{discovery}/sensor/{topic_prefix}_footfall_{loc}_queue_{queue.id}/config"
            )
            assert json.loads(queue_config or b"{}")["value_template"] == (
                "{{ value_json.length }}"
            )
            # The wait time: a sensor of its own (HA charts states, not attributes).
            wait_config = json.loads(
                watcher.latest(
                    f"{discovery}/sensor/{topic_prefix}_footfall_{loc}_queue_{queue.id}"
                    "_wait_time/config"
                )
                or b"{}"
            )
            assert wait_config["state_topic"] == queue_state
            assert wait_config["value_template"] == "{{ value_json.wait_time }}"
            assert (wait_config["unit_of_measurement"], wait_config["device_class"]) == (
                "s",
                "duration",
            )
            assert isinstance((value_of(watcher, queue_state) or {})["wait_time"], float)

            # A burst of changes: at most one message a second, the last one the latest.
            live = len(watcher.messages[state])
            for n in range(6):
                ok(post_events(http, site.ingest_token, [crossing(100 + n)]))
            watcher.wait_for(
                "occupancy 8", lambda: (value_of(watcher, state) or {}).get("occupancy") == 8
            )
            burst = watcher.messages[state][live - 1 :]
            gaps = [b.at - a.at for a, b in itertools.pairwise(burst)]
            assert all(gap > 0.8 for gap in gaps), gaps  # 1 s apart, give or take delivery

            # Someone who subscribes now gets every latest value at once (retained).
            late = Watcher([f"{topic_prefix}/#"])
            try:
                late.sync(topic_prefix)
                retained = late.messages[state][-1]
                assert retained.retained
                assert json.loads(retained.payload)["occupancy"] == 8
                assert late.messages[config_topic][-1].retained
                assert late.messages[queue_state][-1].retained
            finally:
                late.close()
        # A clean stop says so.
        watcher.wait_for(
            "offline", lambda: watcher.latest(f"{prefix}/status") == b"offline", timeout=15
        )
    finally:
        watcher.close()


@contextmanager
def ticking(publisher: MetricsPublisher, every: float = 0.1) -> Iterator[None]:
    """The publisher's refresh loop, as `footfall serve` runs it, in a thread."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            publisher.tick()
            stop.wait(every)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
        publisher.close()


def test_a_broker_that_was_down_or_restarted_gets_every_latest_value(
    db: Database, site: Site, private_broker: PrivateBroker
) -> None:
    settings = Settings(
        database_url=db.url,
        mqtt_url=private_broker.url,
        mqtt_topic_prefix="ff",
        mqtt_discovery_prefix="ha",
    )
    counter = counter_for(db, site)
    state = f"ff/{site.location_id}/occupancy/{counter.id}"
    config_topic = f"ha/sensor/ff_{site.location_id}_occupancy_{counter.id}/config"
    publisher = MetricsPublisher(db, settings, backoff=(0.1, 0.5))
    with ticking(publisher):
        # No broker yet: ingest goes on regardless.
        ingest_directly(db, site.location_id, [crossing(1)])
        private_broker.start()
        first = Watcher(["ff/#", "ha/#"], private_broker.port)
        first.wait_for("occupancy 1", lambda: (value_of(first, state) or {}).get("occupancy") == 1)
        first.wait_for("the discovery config", lambda: first.latest(config_topic) is not None)
        first.close()

        # The broker goes away; values keep changing meanwhile.
        private_broker.stop()
        ingest_directly(db, site.location_id, [crossing(2), crossing(3)])
        ingest_directly(db, site.location_id, [crossing(4)])

        # It comes back empty (no persistence): everything is published again, the latest.
        private_broker.start()
        second = Watcher(["ff/#", "ha/#"], private_broker.port)
        try:
            second.wait_for(
                "occupancy 4 after the restart",
                lambda: (value_of(second, state) or {}).get("occupancy") == 4,
            )
            second.wait_for(
                "the discovery config again", lambda: second.latest(config_topic) is not None
            )
            second.wait_for("online", lambda: second.latest("ff/status") == b"online")
            assert publisher.session is not None
            assert publisher.session.sessions >= 2
        finally:
            second.close()


def leads(publisher: MetricsPublisher) -> bool:
    return publisher.session is not None


def test_one_publisher_among_processes_sharing_a_database(
    db: Database, site: Site, topic_prefix: str
) -> None:
    settings = Settings(
        database_url=db.url,
        mqtt_url="mqtt://127.0.0.1:1883",
        mqtt_topic_prefix=topic_prefix,
        mqtt_discovery_prefix="",
    )
    first, second = MetricsPublisher(db, settings), MetricsPublisher(Database(db.url), settings)
    third = MetricsPublisher(Database(db.url), settings)
    try:
        first.tick()
        second.tick()
        assert leads(first)
        assert not leads(second)  # stands by
        first.close()
        second.tick()
        assert leads(second)  # took over
        third.tick()
        assert not leads(third)
    finally:
        for publisher in (first, second, third):
            publisher.close()
            if publisher.db is not db:
                publisher.db.dispose()
