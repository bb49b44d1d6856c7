"""The latest value of each topic, and which to publish now.

Invariants, per topic:
- at most one publish per `interval_ms` (a burst of changes becomes one publish of its
  last value, sent as soon as the interval since the previous publish has passed);
- the value published last is always the latest offered: nothing older is ever sent
  after something newer;
- after `resend_all` (a new broker session) every topic's latest value is due again, so a
  broker that was down, or restarted without persistence, ends up with every value.

A retired topic (its counter was deleted) is published once more with an empty payload,
which removes a retained message, then forgotten. Thread-safe: values are offered by the
refresh job and taken by the session's network thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["Coalescer"]


@dataclass
class _Topic:
    payload: bytes  # b"" for a retired topic: clears the retained message
    key: bytes  # what "changed" compares (e.g. the value without its timestamp)
    pending: bool = True
    sent_at: int | None = None
    retired: bool = False


class Coalescer:
    def __init__(self, interval_ms: int = 1000) -> None:
        self.interval_ms = interval_ms
        self._topics: dict[str, _Topic] = {}
        self._lock = threading.Lock()

    def offer(self, topic: str, payload: bytes, key: bytes | None = None) -> None:
        """The topic's current value; a change only when `key` (default: payload) differs."""
        key = payload if key is None else key
        with self._lock:
            entry = self._topics.get(topic)
            if entry is None:
                self._topics[topic] = _Topic(payload, key)
            elif entry.retired or entry.key != key:
                entry.payload, entry.key, entry.pending, entry.retired = payload, key, True, False

    def retire(self, topic: str) -> None:
        with self._lock:
            entry = self._topics.get(topic)
            if entry is not None and not entry.retired:
                entry.payload, entry.key, entry.pending, entry.retired = b"", b"", True, True

    def due(self, now: int) -> list[tuple[str, bytes]]:
        """What to publish now (marked as sent at `now`)."""
        out: list[tuple[str, bytes]] = []
        with self._lock:
            for topic, entry in list(self._topics.items()):
                if not entry.pending:
                    continue
                if entry.sent_at is not None and now - entry.sent_at < self.interval_ms:
                    continue
                out.append((topic, entry.payload))
                entry.pending, entry.sent_at = False, now
                if entry.retired:
                    del self._topics[topic]
        return out

    def resend_all(self) -> None:
        with self._lock:
            for entry in self._topics.values():
                entry.pending = True

    def pending(self) -> int:
        with self._lock:
            return sum(1 for e in self._topics.values() if e.pending)
