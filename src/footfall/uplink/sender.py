"""Delivers the spool to the server: declare the config, then push the oldest events in
batches, deleting them only when the server acknowledged them (200). A server that is down
or slow is retried with the doubling back-off (`uplink.backoff`); nothing is lost and a
resend is harmless. A batch the server refuses with 422 has the events it names moved to
the spool's dead letters and the rest sent again at once: one bad event never blocks the
queue.

Spooled heartbeats go the same way, to `POST /ingest/v1/heartbeat`, up to
`HEARTBEAT_BATCH` per request, after the events: deleted once recorded; those a 422
names are dropped with a warning (a heartbeat is not worth a dead letter); a server
without the endpoint (404: older than coverage) gets none, and the spool forgets them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx

from footfall.domain.times import format_local
from footfall.uplink.backoff import Backoff
from footfall.uplink.spool import Spool, SpooledBeat

__all__ = ["HEARTBEAT_BATCH", "ConfigOutdated", "Sender"]

log = logging.getLogger("footfall.agent")
BATCH = 1000
HEARTBEAT_BATCH = 1000


class ConfigOutdated(RuntimeError):
    """A batch was refused while the caller's config had grown since it was declared
    (the Frigate bridge learns zones as it goes): declare again and resend, rather than
    dead-letter events of a zone the server has not been told about yet."""


def _problems_by_index(answer: httpx.Response, size: int) -> dict[int, list[str]]:
    """index → the server's reasons, for the items of a request of `size` that a 422 names
    (docs/api.md, The ingest API: `result` is a list of {index, field, message})."""
    try:
        problems = answer.json().get("result")
    except (ValueError, AttributeError):
        return {}
    reasons: dict[int, list[str]] = {}
    for problem in problems if isinstance(problems, list) else []:
        index = problem.get("index") if isinstance(problem, dict) else None
        if isinstance(index, int) and 0 <= index < size:
            why = f"{problem.get('field', '')}: {problem.get('message', '')}"
            reasons.setdefault(index, []).append(why)
    return reasons


def _refused_events(batch: list[dict[str, Any]], answer: httpx.Response) -> dict[int, str]:
    """record_id → the server's reasons, for the events a 422 names. Empty when the answer
    names none of them."""
    reasons: dict[int, list[str]] = {}
    for index, whys in _problems_by_index(answer, len(batch)).items():
        reasons.setdefault(batch[index]["record_id"], []).extend(whys)
    return {rid: "; ".join(whys) for rid, whys in reasons.items()}


def _refused_beats(beats: list[SpooledBeat], answer: httpx.Response) -> list[SpooledBeat]:
    """The heartbeats a 422 names."""
    return [beats[i] for i in sorted(_problems_by_index(answer, len(beats)))]


class Sender:
    def __init__(
        self,
        server: str,
        token: str,
        spool: Spool,
        config: dict[str, Any],
        *,
        clock: Callable[[], int] = lambda: int(time.time() * 1000),
        config_is_current: Callable[[], bool] = lambda: True,
    ) -> None:
        self._http = httpx.Client(
            base_url=server, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        self._spool = spool
        self._config = config
        self._declared = False
        self._clock = clock
        self._config_is_current = config_is_current
        self.stop = threading.Event()
        self.sent = 0
        self.dead = 0  # events moved to the dead letters
        self.beats = 0  # heartbeats the server recorded
        self._beats_supported = True

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
        if answer.status_code == 422:
            if not self._config_is_current():
                raise ConfigOutdated(f"refused under an outdated config: {answer.text[:300]}")
            refused = _refused_events(batch, answer)
            if not refused:  # names no event of ours: keep them and let the operator know
                raise RuntimeError(f"the server refused a batch: {answer.text[:500]}")
            self._spool.dead_letter(refused, self._clock())
            self.dead += len(refused)
            log.warning(
                "the server refused %d event(s); moved to the dead letters "
                "(footfall agent --dead-letters): %s",
                len(refused),
                next(iter(refused.values())),
            )
            return 0
        if answer.status_code in (400, 401, 413):
            raise RuntimeError(f"the server refused a batch: {answer.text[:500]}")
        raise httpx.HTTPError(f"HTTP {answer.status_code}")

    def flush_heartbeats_once(self) -> int:
        """Send one request of spooled heartbeats; returns how many left the spool."""
        if not self._declared and not self._declare():
            return 0
        beats = self._spool.oldest_heartbeats(HEARTBEAT_BATCH)
        if not beats:
            return 0
        body = {
            "channels": [
                {"id": b.channel_id, "status": b.status, "at": format_local(b.at, UTC)}
                for b in beats
            ]
        }
        answer = self._http.post("/ingest/v1/heartbeat", json=body)
        if answer.status_code == 200:
            self._spool.forget_heartbeats(beats)
            self.beats += len(beats)
            return len(beats)
        if answer.status_code == 404:
            if self._beats_supported:
                log.warning("the server takes no heartbeats (older than coverage): not sent")
            self._beats_supported = False
            self._spool.forget_heartbeats(beats)
            return len(beats)
        if answer.status_code == 422:
            refused = _refused_beats(beats, answer)
            if not refused:
                raise RuntimeError(f"the server refused heartbeats: {answer.text[:500]}")
            log.warning("the server refused %d heartbeat(s); dropped", len(refused))
            self._spool.forget_heartbeats(refused)
            return len(refused)
        if answer.status_code in (400, 401, 413):
            raise RuntimeError(f"the server refused heartbeats: {answer.text[:500]}")
        raise httpx.HTTPError(f"HTTP {answer.status_code}")

    def _pending(self) -> int:
        return self._spool.pending() + self._spool.pending_heartbeats()

    def run(self) -> None:
        """Until told to stop and the spool is empty: send, back off on failure."""
        backoff = Backoff(0.5, 10.0)
        while True:
            try:
                dead_before = self.dead
                if self.flush_once() or self.dead > dead_before:
                    backoff.succeeded()
                    continue
                if self.flush_heartbeats_once():
                    backoff.succeeded()
                    continue
            except httpx.HTTPError as exc:
                delay = backoff.failed()
                log.warning("cannot deliver events (%s); retrying in %.1f s", exc, delay)
                if self.stop.wait(delay) and self._pending() == 0:
                    return
                continue
            if self.stop.is_set() and self._pending() == 0:
                return
            self._spool.added.wait(0.5)
            self._spool.added.clear()

    def close(self) -> None:
        self._http.close()
