"""Real brokers for the MQTT tests: the machine's Mosquitto (127.0.0.1:1883, shared: each
test works under its own random topic prefix and clears its retained messages), and
private Mosquitto processes a test may stop and restart at will."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.needs import require

SHARED_PORT = 1883
MOSQUITTO = Path("/usr/sbin/mosquitto")


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def require_shared_broker() -> None:
    if not _reachable(SHARED_PORT):
        pytest.fail(
            "no MQTT broker on 127.0.0.1:1883: start it with "
            "`mosquitto -d -c /etc/mosquitto/mosquitto.conf` (.ci/run does)"
        )


@dataclass
class Received:
    payload: bytes
    retained: bool
    at: float


class Watcher:
    """Subscribes to topic filters and keeps every message, by topic."""

    def __init__(self, filters: list[str], port: int = SHARED_PORT) -> None:
        self.messages: dict[str, list[Received]] = {}
        self._changed = threading.Condition()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"watcher-{secrets.token_hex(4)}",
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        assert subscribed.wait(10), "the broker did not confirm the subscription"

    def _on_message(self, _client: Any, _userdata: Any, message: paho.MQTTMessage) -> None:
        with self._changed:
            received = Received(bytes(message.payload), bool(message.retain), time.monotonic())
            self.messages.setdefault(message.topic, []).append(received)
            self._changed.notify_all()

    def latest(self, topic: str) -> bytes | None:
        with self._changed:
            seen = self.messages.get(topic)
            return seen[-1].payload if seen else None

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; saw {self.messages}")
                self._changed.wait(left)

    def sync(self, prefix: str) -> None:
        """Wait until everything the broker had queued for us has arrived: a marker we
        publish now comes after the retained messages of our subscriptions."""
        marker = f"{prefix}/_sync/{secrets.token_hex(4)}"
        self.client.publish(marker, b"sync", qos=1)
        self.wait_for("the sync marker", lambda: marker in self.messages, timeout=10)
        with self._changed:
            del self.messages[marker]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def clear_retained(prefixes: list[str], port: int = SHARED_PORT) -> None:
    """Remove every retained message under these prefixes (leave the shared broker clean)."""
    watcher = Watcher([f"{p}/#" for p in prefixes], port)
    watcher.sync(prefixes[0])  # every retained message has arrived
    watcher.close()
    topics = [t for t, seen in watcher.messages.items() if seen[-1].payload]
    if not topics:
        return
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for topic in topics:
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def topic_prefix() -> Iterator[str]:
    """A random topic prefix on the shared broker, cleared after the test."""
    require_shared_broker()
    prefix = f"test-{secrets.token_hex(4)}"
    yield prefix
    clear_retained([prefix])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateBroker:
    """A Mosquitto of the test's own, on a free loopback port, without persistence (so a
    restart loses every retained message, as a broker rebuilt from scratch would)."""

    def __init__(self, directory: Path) -> None:
        self.binary = str(MOSQUITTO if MOSQUITTO.exists() else shutil.which("mosquitto") or "")
        require(
            self.binary,
            "the reconnection test starts its own broker and needs the mosquitto binary "
            "(Debian package `mosquitto`, which .ci/run installs)",
        )
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path)
    try:
        yield broker
    finally:
        broker.stop()
