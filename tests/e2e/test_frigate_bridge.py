"""`footfall bridge frigate` end to end, on both engines: recorded Frigate messages
published to the real Mosquitto, the bridge as a process of its own (killed and restarted
on the way), events in Footfall exactly once."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from footfall.bridge.frigate import translate
from footfall.domain.stays import JOIN, ZoneEvent, replay
from footfall.services import occupancy
from footfall.services.analytics import compute_histograms
from footfall.store.db import Database
from footfall.store.locations import load_triggers
from footfall.store.schema import events
from footfall.uplink.spool import Spool
from tests.conftest import RunningServer, Site
from tests.frigate_data import parked_car, recorded, shifted
from tests.helpers import Signer, ok
from tests.mqtt_helpers import topic_prefix

__all__ = ["topic_prefix"]  # fixture

pytestmark = pytest.mark.slow

CAMERAS = {"yard": "cam-yard"}


class Bridge:
    """`python -m footfall bridge frigate ...` in a process of its own."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "footfall", "bridge", "frigate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.subscribed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self.subscribed.wait(60):
            self.kill()
            raise AssertionError(f"the bridge did not subscribe: {self.log}")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if "subscribed to" in line:
                self.subscribed.set()

    def kill(self) -> None:
        self.process.kill()
        self._close()

    def stop(self) -> str:
        """SIGTERM: stop taking messages, empty the spool, exit 0."""
        self.process.terminate()
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        self._close()
        assert self.process.returncode == 0, self.log
        return out

    def _close(self) -> None:
        self.process.wait(60)
        self._reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def publish(prefix: str, messages: list[dict[str, Any]]) -> None:
    """As Frigate does (with `mqtt: qos: 1` in its config)."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        for message in messages:
            info = client.publish(f"{prefix}/events", json.dumps(message).encode(), qos=1)
            info.wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def forget_session(client_id: str) -> None:
    """Remove the bridge's persistent session from the shared broker."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
    )
    client.connect("127.0.0.1", 1883)
    client.loop(timeout=1)
    client.disconnect()


def stored(db: Database, location_id: int) -> list[tuple[Any, ...]]:
    columns = (
        events.c.record_id,
        events.c.event_type,
        events.c.trigger_id,
        events.c.channel_id,
        events.c.object_id,
        events.c.origin,
        events.c.suborigin,
        events.c.event_time,
    )
    with db.read() as conn:
        rows = conn.execute(select(*columns).where(events.c.location_id == location_id))
        return sorted(tuple(r) for r in rows)


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def bridge_args(
    server: RunningServer, site: Site, topic_prefix: str, tmp_path: Path
) -> Iterator[list[str]]:
    client_id = f"bridge-{topic_prefix}"
    yield [
        "--mqtt",
        "mqtt://127.0.0.1:1883",
        "--token",
        site.ingest_token,
        "--server",
        server.url,
        "--camera-map",
        "yard=cam-yard",
        "--topic-prefix",
        f"{topic_prefix}/frigate",
        "--spool",
        str(tmp_path / "bridge-spool.db"),
        "--client-id",
        client_id,
    ]
    forget_session(client_id)


def test_frigate_events_reach_footfall_exactly_once_across_bridge_restarts(
    db: Database, site: Site, topic_prefix: str, bridge_args: list[str]
) -> None:
    messages = shifted(recorded())
    expected = sorted(
        (
            e["record_id"],
            e["event_type"],
            e["trigger_id"],
            e["channel_id"],
            e["object_id"],
            e["origin"],
            e["suborigin"],
        )
        for m in messages
        for e in translate(m, CAMERAS).events
    )
    assert len(expected) == 8
    frigate = f"{topic_prefix}/frigate"

    # 1. The first half, delivered; then the bridge dies without a word.
    bridge = Bridge(bridge_args)
    publish(frigate, messages[:6])
    first_half = {e["record_id"] for m in messages[:6] for e in translate(m, CAMERAS).events}
    wait_until(
        "the first half in Footfall",
        lambda: {r[0] for r in stored(db, site.location_id)} == first_half,
    )
    bridge.kill()

    # 2. Frigate goes on meanwhile (the broker keeps it for the bridge's session), repeats
    #    itself once, and the bridge is killed again right after it came back.
    publish(frigate, [*messages[6:9], messages[1]])
    Bridge(bridge_args).kill()

    # 3. The rest, and the bridge back for good.
    bridge = Bridge(bridge_args)
    publish(frigate, [*messages[9:], messages[5]])
    wait_until("every event", lambda: len(stored(db, site.location_id)) >= len(expected))
    out = bridge.stop()
    assert "done:" in out

    rows = stored(db, site.location_id)
    assert [r[:7] for r in rows] == expected  # each once, nothing else
    assert all(r[7] is not None for r in rows)
    with db.read() as conn:
        triggers = load_triggers(conn, site.location_id)
    assert {t: (v.channel_id, v.type, v.name) for t, v in triggers.items()} == {
        "front_door:porch": ("front_door", "Zone", "porch"),
        "front_door:driveway": ("front_door", "Zone", "driveway"),
        "cam-yard:gate": ("cam-yard", "Zone", "gate"),
    }


def test_the_bridge_refuses_bad_options() -> None:
    for args, complaint in [
        (["--mqtt", "http://h", "--token", "t"], "--mqtt"),
        (["--mqtt", "mqtt://h", "--token", "t", "--camera-map", "x"], "CAMERA=CHANNEL"),
        (["--mqtt", "mqtt://h", "--token", "t", "--topic-prefix", "a/#"], "--topic-prefix"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "footfall", "bridge", "frigate", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert complaint in done.stderr
        assert done.stderr.count("\n") == 1, done.stderr


def test_events_refused_for_good_go_to_the_dead_letters_and_the_rest_flow_on(
    db: Database, site: Site, topic_prefix: str, bridge_args: list[str]
) -> None:
    """Frigate's clock runs an hour fast for a while: those events are refused (more than
    10 minutes in the future), kept in the spool's dead letters with the reason, and the
    messages after them still reach Footfall."""
    messages = recorded()
    fast = shifted(messages[:6], end=time.time() + 3600)
    good = shifted(messages[6:])
    refused = {e["record_id"] for m in fast for e in translate(m, CAMERAS).events}
    delivered = {e["record_id"] for m in good for e in translate(m, CAMERAS).events}
    assert refused
    assert delivered
    bridge = Bridge(bridge_args)
    publish(f"{topic_prefix}/frigate", [*fast, *good])
    wait_until(
        "the good events in Footfall",
        lambda: {r[0] for r in stored(db, site.location_id)} == delivered,
    )
    assert "done:" in bridge.stop()
    spool = Spool(Path(bridge_args[bridge_args.index("--spool") + 1]))
    try:
        letters = spool.dead_letters()
        assert spool.pending() == 0
    finally:
        spool.close()
    assert {letter.record_id for letter in letters} == refused
    assert all("future" in letter.reason for letter in letters)


def test_a_car_parked_6_hours_counts_until_it_leaves(
    db: Database,
    site: Site,
    http: httpx.Client,
    topic_prefix: str,
    bridge_args: list[str],
) -> None:
    """Frigate's `new` for a car that came into the carport 6 hours ago, then an `update`
    a minute ago that it is still there: the bridge fills the hours with Loitering, and
    the zone counter, the queue and the histograms show the car until Frigate's `end`."""
    now = time.time()
    arrived = now - 6 * 3600
    new, update, end = parked_car("garage", "carport", arrived, now - 60, now)
    frigate = f"{topic_prefix}/frigate"
    zone = "garage:carport"
    bridge = Bridge(bridge_args)
    try:
        publish(frigate, [new, update])
        wait_until("the join and 5 Loitering", lambda: len(stored(db, site.location_id)) >= 6)
        rows = sorted(stored(db, site.location_id), key=lambda r: r[7])
        # (and one more when the bridge's own clock check comes by at join + 6 h)
        assert [r[1] for r in rows[:6]] == ["RegionJoin"] + ["Loitering"] * 5
        signs = [r[7] for r in rows]
        assert max(b - a for a, b in itertools.pairwise(signs)) <= 3_600_000
        counter = occupancy.create_counter(db, location_id=site.location_id, name="Car", zone=zone)
        queue = occupancy.create_queue(db, location_id=site.location_id, name="Bay", zone=zone)
        signer = Signer(site.public_key, site.secret)

        def live() -> tuple[int, int, float]:
            [c] = ok(signer.get(http, "/occupancy", f"location_id={site.location_id}"))
            [q] = ok(signer.get(http, "/queues", f"location_id={site.location_id}"))
            assert (c["id"], q["id"]) == (counter.id, queue.id)
            return c["occupancy"], q["length"], q["wait_time"]

        assert live() == (1, 1, 0.0)  # parked 6 hours: still counted
        # What the 4-hour rule alone (no Loitering) would say: gone since join + 4 h.
        joins_only = [
            ZoneEvent(r[7], r[0], r[4], JOIN)
            for r in stored(db, site.location_id)
            if r[1] == "RegionJoin"
        ]
        [timed_out] = replay(joins_only, horizon_ms=round(now * 1000))
        assert timed_out.end_ms == round(arrived * 1000) + 4 * 3_600_000

        compute_histograms(db)
        hours = ok(signer.get(http, "/histograms", f"location_id={site.location_id}&limit=100"))
        full = [h for h in hours if h["trigger_id"] == zone][1:]  # after the hour of arrival
        assert len(full) >= 5
        assert all(h["counting_data"] == [0.0, 3600.0] for h in full)

        publish(frigate, [end])
        wait_until(
            "the leave", lambda: "RegionLeave" in {r[1] for r in stored(db, site.location_id)}
        )
        count, length, wait = live()
        assert (count, length) == (0, 0)
        assert abs(wait - 6 * 3600) < 2  # the whole stay, completed by Frigate's `end`
        print(
            f"parked 6 h: counter 1, queue length 1 (4-hour rule alone: 0 since join + 4 h); "
            f"{len(full)} full hours {full[0]['counting_data']}; after `end`: counter {count}, "
            f"length {length}, wait_time {wait} s"
        )
    finally:
        assert "done:" in bridge.stop()
