"""Delivers the spool to the server: declare the config, then push the oldest events in
batches, deleting them only when the server acknowledged them (200). A server that is down
or slow is retried with backoff; nothing is lost and a resend is harmless."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

from footfall.agent.spool import Spool

__all__ = ["Sender"]

log = logging.getLogger("footfall.agent")
BATCH = 1000


class Sender:
    def __init__(self, server: str, token: str, spool: Spool, config: dict[str, Any]) -> None:
        self._http = httpx.Client(
            base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        self._spool = spool
        self._config = config
        self._declared = False
        self.stop = threading.Event()
        self.sent = 0

    def _declare(self) -> bool:
        answer = self._http.put("/ingest/v1/config", json=self._config)
        if answer.status_code == 200:
            self._declared = True
            return True
        if answer.status_code < 500:
            raise RuntimeError(f"the server refused the agent's config: {answer.text}")
        return False

    def flush_once(self) -> int:
        """Send one batch; returns how many events the server acknowledged."""
        if not self._declared and not self._declare():
            return 0
        batch = self._spool.oldest(BATCH)
        if not batch:
            return 0
        answer = self._http.post("/ingest/v1/events", json=batch)
        if answer.status_code == 200:
            self._spool.acknowledge([e["record_id"] for e in batch])
            self.sent += len(batch)
            return len(batch)
        if answer.status_code in (400, 401, 413, 422):
            raise RuntimeError(f"the server refused a batch: {answer.text[:500]}")
        raise httpx.HTTPError(f"HTTP {answer.status_code}")

    def run(self) -> None:
        """Until told to stop and the spool is empty: send, back off on failure."""
        delay = 0.5
        while True:
            try:
                if self.flush_once():
                    delay = 0.5
                    continue
            except httpx.HTTPError as exc:
                log.warning("cannot deliver events (%s); retrying in %.1f s", exc, delay)
                if self.stop.wait(delay) and self._spool.pending() == 0:
                    return
                delay = min(delay * 2, 10.0)
                continue
            if self.stop.is_set() and self._spool.pending() == 0:
                return
            self._spool.added.wait(0.5)
            self._spool.added.clear()

    def close(self) -> None:
        self._http.close()
