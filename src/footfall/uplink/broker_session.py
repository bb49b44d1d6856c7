"""One MQTT session at a time with a broker, kept up until stopped.

A supervisor thread connects, runs the network loop, and after a lost or refused
connection waits (back-off doubling from `backoff[0]` to `backoff[1]` seconds, reset by a
session that got established) before connecting again. Each session uses a fresh paho
client: messages queued on a dead session are dropped with it, never resent later over
newer ones, and `on_session` (called at every connection) is where a user re-sends what
must be on the broker (the publisher: every latest value) or subscribes again.

Everything touching the client runs in the supervisor thread: `outbox` is polled there
between network-loop rounds, so callers in other threads never share the client.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from footfall.domain.broker_url import BrokerURL
from footfall.uplink.backoff import Backoff

__all__ = ["Message", "Session"]

log = logging.getLogger("footfall.mqtt")


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class Session:
    def __init__(
        self,
        url: BrokerURL,
        *,
        client_id: str,
        clean_session: bool = True,
        will: Message | None = None,
        farewell: Sequence[Message] = (),
        on_session: Callable[[paho.Client], None] | None = None,
        on_message: Callable[[paho.MQTTMessage], None] | None = None,
        outbox: Callable[[], Sequence[Message]] | None = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        keepalive: int = 30,
        tick: float = 0.1,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.clean_session = clean_session
        self.will = will
        self.farewell = tuple(farewell)  # published on a clean stop (the will covers a crash)
        self.on_session = on_session
        self.on_message = on_message
        self.outbox = outbox
        self.backoff = backoff
        self.keepalive = keepalive
        self.tick = tick
        self.connected = threading.Event()
        self.sessions = 0  # sessions established so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Session:
        self._thread = threading.Thread(
            target=self._supervise, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the supervisor thread --------------------------------------------------------

    def _client(self) -> paho.Client:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=self.clean_session,
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        client.connect_timeout = 5.0
        if self.url.username is not None:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set_context(ssl.create_default_context())
        if self.will is not None:
            client.will_set(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        client.on_connect = self._on_connect
        if self.on_message is not None:
            handler = self.on_message
            client.on_message = lambda _c, _u, message: handler(message)
        return client

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s refused the connection: %s", self.url, reason)
            return
        self.sessions += 1
        log.info("MQTT connected to %s as %s", self.url, self.client_id)
        if self.on_session is not None:
            self.on_session(client)
        self.connected.set()

    def _supervise(self) -> None:
        backoff = Backoff(*self.backoff)
        while not self._stop.is_set():
            client = self._client()
            try:
                client.connect(self.url.host, self.url.port, keepalive=self.keepalive)
            except (OSError, ValueError) as exc:
                log.warning(
                    "MQTT broker %s unreachable (%s); retrying in %.1f s",
                    self.url,
                    exc,
                    backoff.delay,
                )
            else:
                if self._serve(client):
                    backoff.succeeded()
                if self._stop.is_set():
                    return
                log.warning(
                    "MQTT connection to %s lost; reconnecting in %.1f s", self.url, backoff.delay
                )
            self._stop.wait(backoff.failed())

    def _serve(self, client: paho.Client) -> bool:
        """Run the session until it ends; True if it was established."""
        established = False
        try:
            while not self._stop.is_set():
                if client.loop(timeout=self.tick) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                if self.connected.is_set():
                    established = True
                    for message in self.outbox() if self.outbox is not None else ():
                        client.publish(message.topic, message.payload, message.qos, message.retain)
            if self._stop.is_set() and self.connected.is_set():
                self._say_goodbye(client)
        except Exception:
            log.exception("MQTT session with %s failed", self.url)
        finally:
            self.connected.clear()
            client.disconnect()
            client.loop(timeout=0)  # flush the DISCONNECT packet, close the socket
        return established

    def _say_goodbye(self, client: paho.Client) -> None:
        sent = [client.publish(m.topic, m.payload, m.qos, m.retain) for m in self.farewell]
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not all(s.is_published() for s in sent):
            if client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
