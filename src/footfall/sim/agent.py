"""The simulator's side of the ingest API: declare the config, push batches, retry.

Like a real agent it keeps a batch until the server acknowledges it, and resends it after a
timeout or a server error; record ids make the resend harmless (duplicates are skipped).
It also reports every channel `ok` every 30 s of simulated time (`heartbeat`), so the
simulated shop's coverage is complete.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from footfall.sim.traffic import SimEvent

__all__ = ["HEARTBEATS_PER_REQUEST", "AgentError", "IngestAgent", "to_payload"]

HEARTBEATS_PER_REQUEST = 5000


class AgentError(Exception):
    """The server refused something no retry can fix (a 4xx other than 429)."""


def to_payload(event: SimEvent) -> dict[str, Any]:
    from datetime import UTC

    from footfall.domain.times import format_local

    return {
        "record_id": event.record_id,
        "event_type": event.event_type,
        "trigger_id": event.trigger_id,
        "channel_id": event.channel_id,
        "object_id": event.object_id,
        "origin": event.origin,
        "suborigin": event.suborigin,
        "age_range": event.age_range,
        "gender": event.gender,
        "snapshot_id": 0,
        "event_time": format_local(event.time_ms, UTC),
    }


class IngestAgent:
    def __init__(self, url: str, token: str, *, timeout: float = 30.0, retries: int = 8) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self._retries = retries

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Any) -> dict[str, Any]:
        delay = 0.5
        for attempt in range(self._retries + 1):
            try:
                answer = self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            else:
                if answer.status_code == 200:
                    result: dict[str, Any] = answer.json()["result"]
                    return result
                if answer.status_code < 500 and answer.status_code != 429:
                    raise AgentError(f"{method} {path}: HTTP {answer.status_code}: {answer.text}")
                failure = f"HTTP {answer.status_code}"
            if attempt == self._retries:
                raise AgentError(f"{method} {path} failed {attempt + 1} times: {failure}")
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        raise AssertionError("unreachable")

    def declare(self, config: dict[str, Any]) -> dict[str, Any]:
        """PUT the config; the answer carries the location's time zone."""
        return self._call("PUT", "/ingest/v1/config", config)

    def send(self, events: list[SimEvent]) -> dict[str, Any]:
        return self._call("POST", "/ingest/v1/events", [to_payload(e) for e in events])

    def heartbeat(self, channels: list[str], instants: list[int]) -> None:
        """Say every channel was `ok` at each instant (epoch ms), in requests of at most
        HEARTBEATS_PER_REQUEST."""
        from datetime import UTC

        from footfall.domain.times import format_local

        beats = [
            {"id": channel, "status": "ok", "at": format_local(at, UTC)}
            for at in instants
            for channel in channels
        ]
        for start in range(0, len(beats), HEARTBEATS_PER_REQUEST):
            self._call(
                "POST",
                "/ingest/v1/heartbeat",
                {"channels": beats[start : start + HEARTBEATS_PER_REQUEST]},
            )
