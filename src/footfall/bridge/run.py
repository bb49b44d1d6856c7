"""`footfall bridge frigate`: Frigate's MQTT events in, Footfall events out, exactly once.

    broker --QoS 1, persistent session--> on_message: translate, remember the camera's
    zone (catalog), write the events to the spool --> return (only now is the message
    acknowledged to the broker) ... sender thread: declare every zone seen, then send the
    spool's oldest events, deleting them once the server acknowledged them.

Why nothing is lost or doubled:
- a message is acknowledged (PUBACK, after `on_message` returns) only once its events are
  in the spool (SQLite, synchronous): a bridge killed before that gets it again, from the
  broker's persistent session (fixed client id, clean_session off);
- events leave the spool only when the server acknowledged them (the agent's `Sender`);
- the same message always gives the same record ids (`frigate.translate`): whatever is
  delivered twice, by the broker or by the spool after a crash, is stored once.

The broker keeps messages for the bridge while it is stopped only if Frigate publishes
them with QoS 1 (`mqtt: qos: 1` in Frigate's config); Frigate's default QoS 0 messages
are not queued for absent subscribers (Mosquitto's `queue_qos0_messages`).

The catalog of (camera, zone) seen so far is kept in the spool's file and declared again
at every start, so a restart never deactivates a zone. So are the objects still in a zone
(`presence.Presences`): the bridge sends Loitering for them at most an hour apart, from
Frigate's messages and, every `PRESENCE_CHECK_S`, from its own clock, so a car parked for
days stays counted; `{prefix}/available` going "offline" (Frigate's last will) forgets
them, since Frigate forgets its tracked objects then. The bridge declares only Frigate's
cameras: give it a location of its own (an agent's config would deactivate them).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho

from footfall import __version__
from footfall.bridge.frigate import FrigateMessageError, Place, server_config, translate
from footfall.bridge.presence import Presences
from footfall.domain.broker_url import BrokerURL
from footfall.domain.times import now_ms
from footfall.uplink.broker_session import Session
from footfall.uplink.sender import ConfigOutdated, Sender
from footfall.uplink.spool import Spool

__all__ = ["BridgeOptions", "Catalog", "FrigateBridge"]

log = logging.getLogger("footfall.bridge")
VERSION = f"footfall-frigate-bridge {__version__}"
PRESENCE_CHECK_S = 60.0  # how often objects still in a zone get their hourly Loitering


@dataclass(frozen=True)
class BridgeOptions:
    mqtt: BrokerURL
    token: str
    server: str = "http://127.0.0.1:8000"
    spool: Path = Path("frigate-bridge-spool.db")
    cameras: dict[str, str] = field(default_factory=dict)
    topic_prefix: str = "frigate"  # Frigate's `mqtt.topic_prefix`
    client_id: str = "footfall-frigate-bridge"
    drain_seconds: float = 10.0  # on stop: how long to try to empty the spool


class Catalog:
    """Every (camera, zone) seen, in a table of the spool's file."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS frigate_places (channel_id TEXT NOT NULL, "
            "trigger_id TEXT NOT NULL, camera TEXT NOT NULL, zone TEXT NOT NULL, "
            "PRIMARY KEY (channel_id, trigger_id))"
        )
        self._lock = threading.Lock()
        self._places = {
            Place(*row)
            for row in self._conn.execute(
                "SELECT channel_id, trigger_id, camera, zone FROM frigate_places"
            )
        }
        self.version = 0  # bumped whenever a place is added

    def add(self, places: Iterable[Place]) -> bool:
        """Remember new places (durably); True when there were any."""
        with self._lock:
            new = [p for p in places if p not in self._places]
            if not new:
                return False
            self._conn.executemany(
                "INSERT OR IGNORE INTO frigate_places VALUES (?, ?, ?, ?)",
                [(p.channel_id, p.trigger_id, p.camera, p.zone) for p in new],
            )
            self._places.update(new)
            self.version += 1
            return True

    def snapshot(self) -> tuple[int, list[Place]]:
        with self._lock:
            return self.version, sorted(self._places)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class FrigateBridge:
    def __init__(self, options: BridgeOptions, *, clock: Callable[[], int] = now_ms) -> None:
        self.options = options
        self.clock = clock
        self.spool = Spool(options.spool)
        self.catalog = Catalog(options.spool)
        self.presence = Presences(options.spool)
        # time.monotonic() of the last check. Not at once at start: the messages the broker
        # kept meanwhile (an `end`, Frigate's offline will) come first.
        self._presence_checked = time.monotonic()
        self.topic = f"{options.topic_prefix}/events"
        self.available = f"{options.topic_prefix}/available"
        self.subscribed = threading.Event()
        self.sent = 0
        self.session = Session(
            options.mqtt,
            client_id=options.client_id,
            clean_session=False,  # the broker keeps our messages while we are away
            on_session=self._on_session,
            on_message=self._on_message,
        )

    # -- MQTT (the session's thread) -----------------------------------------------------

    def _on_session(self, client: paho.Client) -> None:
        def on_subscribe(*_: Any) -> None:
            log.info("subscribed to %s on %s", self.topic, self.options.mqtt)
            self.subscribed.set()

        client.on_subscribe = on_subscribe
        client.subscribe([(self.topic, 1), (self.available, 1)])

    def _on_message(self, message: paho.MQTTMessage) -> None:
        if message.topic == self.available:
            if bytes(message.payload).strip() == b"offline":
                forgotten = self.presence.forget()
                log.info("Frigate is offline: %d objects in zones forgotten", forgotten)
            return
        try:
            translation = translate(bytes(message.payload), self.options.cameras)
        except FrigateMessageError as exc:
            log.warning("ignored a message on %s: %s", message.topic, exc)
            return  # acknowledged: a malformed message would fail the same way again
        # The zones first, then the events: a sender that sees the events sees their zones.
        self.catalog.add(translation.places)
        self.spool.add(translation.events)
        # Then the Loitering since each object's last sign (a late message fills hours).
        self.presence.apply(translation.sightings, self.spool.add)

    def check_presence(self) -> int:
        """Spool the Loitering due by now for objects still in a zone; returns how many."""
        self._presence_checked = time.monotonic()
        return len(self.presence.due(self.clock(), self.spool.add))

    # -- delivery ------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> int:
        """Bridge until `stop` is set, then try to empty the spool for a while; returns how
        many events the server acknowledged."""
        self.session.start()
        try:
            self._deliver(stop.is_set)
        finally:
            self.session.stop()  # no new messages; unacknowledged ones come back later
        deadline = time.monotonic() + self.options.drain_seconds
        self._deliver(lambda: self.spool.pending() == 0 or time.monotonic() > deadline)
        left = self.spool.pending()
        if left:
            log.warning("%d events stay in the spool %s for the next start", left, self.spool)
        return self.sent

    def _deliver(self, done: Callable[[], bool]) -> None:
        sender: Sender | None = None
        declared = -1
        delay = 0.5
        try:
            while not done():
                if time.monotonic() - self._presence_checked >= PRESENCE_CHECK_S:
                    self.check_presence()
                if self.spool.pending() == 0:
                    self.spool.added.wait(0.2)
                    self.spool.added.clear()
                    continue
                version, places = self.catalog.snapshot()
                if sender is None or version != declared:
                    if sender is not None:
                        sender.close()
                    # A new Sender declares the config (every zone seen) before sending.
                    config = server_config(places, VERSION)
                    declared = version
                    sender = Sender(
                        self.options.server,
                        self.options.token,
                        self.spool,
                        config,
                        config_is_current=self._is_current(version),
                    )
                try:
                    self.sent += sender.flush_once()
                    delay = 0.5
                except httpx.HTTPError as exc:
                    log.warning("cannot deliver events (%s); retrying in %.1f s", exc, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 10.0)
                except ConfigOutdated:
                    continue  # the batch had events of a zone seen since: declare again
        finally:
            if sender is not None:
                sender.close()

    def _is_current(self, version: int) -> Callable[[], bool]:
        return lambda: self.catalog.snapshot()[0] == version

    def close(self) -> None:
        self.presence.close()
        self.catalog.close()
        self.spool.close()
