"""Every occupancy counter and queue, from the database to an MQTT broker (on when
`FOOTFALL_MQTT_URL` is set).

- Values: the webhook body (`services.metric_values`, plus `event_time`) on
  `{prefix}/{location}/occupancy|queue/{id}`, retained, QoS 1, published when the value
  changes, at most once per second per metric and always the latest (`Coalescer`).
- Home Assistant discovery configs for each, retained (`discovery`), and `{prefix}/status`
  "online", with "offline" as the session's last will and on a clean stop.
- `refresh()` reads the values (a short read snapshot, as the webhooks' watcher does) every
  half second in a worker thread; ingest never waits for it, nor for the broker.
- A broker that is down or restarts loses nothing: at every new session every topic's
  latest value is published again (`Coalescer.resend_all`).
- Under `footfall serve --workers N` only the process holding the database-wide
  `Leadership` runs a session; the others stand by and take over if it stops.
- A deleted counter's topics are cleared (empty retained payloads: Home Assistant then
  removes the entity). One deleted while Footfall was stopped keeps its retained messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Callable

import msgspec
import paho.mqtt.client as paho
from starlette.concurrency import run_in_threadpool

from footfall.config import Settings
from footfall.domain.broker_url import parse_broker_url
from footfall.domain.times import now_ms
from footfall.domain.webhooks import format_utc
from footfall.mqtt.coalesce import Coalescer
from footfall.mqtt.discovery import OFFLINE, ONLINE, SENSORS, Topics, sensor_config
from footfall.root import Database
from footfall.services.leadership import Leadership
from footfall.services.metric_values import live_metrics
from footfall.uplink.broker_session import Message, Session

__all__ = ["COALESCE_MS", "MetricsPublisher"]

log = logging.getLogger("footfall.mqtt")
COALESCE_MS = 1000
_ENCODER = msgspec.json.Encoder()


class MetricsPublisher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], int] = now_ms,
        interval: float = 0.5,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        assert settings.mqtt_url is not None
        self.db = db
        self.url = parse_broker_url(settings.mqtt_url)
        self.topics = Topics(settings.mqtt_topic_prefix, settings.mqtt_discovery_prefix)
        self.clock = clock
        self.interval = interval
        self.backoff = backoff
        self.values = Coalescer(COALESCE_MS)
        self.leadership = Leadership(db, "mqtt-publisher")
        self.session: Session | None = None
        self._offered: set[str] = set()
        # tick() runs in a worker thread that a cancelled task does not stop: close() waits
        # for it, and no tick starts anything after close().
        self._lock = threading.Lock()
        self._closed = False

    # -- in the server: a task that ticks until cancelled --------------------------------

    async def run(self) -> None:
        try:
            while True:
                try:
                    await run_in_threadpool(self.tick)
                except Exception:
                    log.exception("MQTT publisher: refresh failed; retrying")
                await asyncio.sleep(self.interval)
        finally:
            await run_in_threadpool(self.close)

    def tick(self) -> None:
        """Lead (or stand by), then read every current value."""
        with self._lock:
            if not self._closed:
                self._tick()

    def _tick(self) -> None:
        if not self.leadership.hold():
            if self.session is not None:  # lost the lock: someone else publishes now
                self.session.stop()
                self.session = None
            return
        if self.session is None:
            self.session = self._session().start()
        self.refresh()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self.session is not None:
                self.session.stop()
                self.session = None
            self.leadership.release()

    # -- values ------------------------------------------------------------------------

    def refresh(self) -> int:
        """Offer every current value (and discovery config); returns how many topics."""
        now = self.clock()
        offered: dict[str, tuple[bytes, bytes | None]] = {}
        for metric in live_metrics(self.db, now):
            body = {**metric.payload, "event_time": format_utc(metric.changed_at)}
            offered[self.topics.state(metric.location_id, metric.kind, metric.metric_id)] = (
                _ENCODER.encode(body),
                _ENCODER.encode(metric.payload),  # a change is a change of the value
            )
            for topic, config in self._configs(
                metric.location_id,
                metric.location_name,
                metric.kind,
                metric.metric_id,
                str(metric.payload["name"]),
            ):
                offered[topic] = (config, None)
        for topic, (message, key) in offered.items():
            self.values.offer(topic, message, key)
        for topic in self._offered - offered.keys():
            self.values.retire(topic)
        self._offered = set(offered)
        return len(offered)

    def _configs(
        self, location_id: int, location_name: str, kind: str, metric_id: int, name: str
    ) -> list[tuple[str, bytes]]:
        """(topic, discovery config) of every sensor of one metric (a queue: its length and
        its wait time); none when discovery is off."""
        configs: list[tuple[str, bytes]] = []
        for sensor in SENSORS[kind]:
            topic = self.topics.discovery(location_id, kind, metric_id, sensor.key)
            if topic is not None:
                config = sensor_config(
                    self.topics,
                    location_id=location_id,
                    location_name=location_name,
                    kind=kind,
                    metric_id=metric_id,
                    name=name,
                    sensor=sensor.key,
                )
                configs.append((topic, _ENCODER.encode(config)))
        return configs

    # -- the broker session --------------------------------------------------------------

    def _session(self) -> Session:
        availability = self.topics.availability
        return Session(
            self.url,
            # Unique per process: a broker drops the older of two sessions with one id.
            client_id=f"footfall-{os.getpid()}-{secrets.token_hex(3)}",
            will=Message(availability, OFFLINE),
            farewell=[Message(availability, OFFLINE)],
            on_session=self._on_session,
            outbox=self._due,
            backoff=self.backoff,
        )

    def _on_session(self, client: paho.Client) -> None:
        # A new session: the broker may have lost everything (a restart without
        # persistence), and what was in flight on the old session is gone with it.
        client.publish(self.topics.availability, ONLINE, qos=1, retain=True)
        self.values.resend_all()

    def _due(self) -> list[Message]:
        due = self.values.due(self.clock())
        # Discovery configs first, so Home Assistant knows a sensor before its first state.
        config_prefix = f"{self.topics.discovery_prefix}/"
        due.sort(key=lambda item: not item[0].startswith(config_prefix))
        return [Message(topic, payload) for topic, payload in due]
