"""A real `footfall serve` killed with SIGKILL while four agents ingest: after a restart
and the agents resending what was not acknowledged, every event is stored exactly once."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from footfall.benchmarks.harness import ServerProcess
from footfall.store.db import Database
from footfall.store.schema import events, hourly_rollups
from tests.conftest import Site
from tests.helpers import bearer, event, put_config, recent

pytestmark = pytest.mark.slow

BATCH = 200


class Agent:
    """Sends numbered batches; remembers which were acknowledged and which were not."""

    def __init__(self, number: int, token: str) -> None:
        self.token = token
        self.base_record = number * 1_000_000
        self.next_batch = 0
        self.acknowledged: set[int] = set()
        self.unacknowledged: list[list[dict[str, Any]]] = []

    def make_batch(self) -> list[dict[str, Any]]:
        start = self.base_record + self.next_batch * BATCH
        self.next_batch += 1
        return [event(start + i, when=recent(i % 300)) for i in range(BATCH)]

    def send(self, url: str, batch: list[dict[str, Any]]) -> bool:
        try:
            answer = httpx.post(
                f"{url}/ingest/v1/events", json=batch, headers=bearer(self.token), timeout=10
            )
        except httpx.TransportError:
            return False
        if answer.status_code != 200:
            return False
        self.acknowledged.update(e["record_id"] for e in batch)
        return True

    def run_until(self, url: str, stop: threading.Event) -> None:
        while not stop.is_set():
            batch = self.make_batch()
            if not self.send(url, batch):
                self.unacknowledged.append(batch)
                return  # the server is gone: wait for it like a real agent


def test_sigkill_mid_ingest_loses_nothing_acknowledged(
    db_url: str, db: Database, site: Site
) -> None:
    server = ServerProcess(db_url)
    try:
        server.start()
        with httpx.Client(base_url=server.url) as http:
            put_config(http, site.ingest_token)
        agents = [Agent(n, site.ingest_token) for n in range(1, 5)]
        stop = threading.Event()
        threads = [
            threading.Thread(target=agent.run_until, args=(server.url, stop)) for agent in agents
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while sum(len(a.acknowledged) for a in agents) < 20 * BATCH:
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.01)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        server.start()
        for agent in agents:
            for batch in agent.unacknowledged:
                assert agent.send(server.url, batch)
            assert agent.send(server.url, agent.make_batch())  # and life goes on
        sent = set().union(*(a.acknowledged for a in agents))
        with db.read() as conn:
            stored = list(conn.execute(select(events.c.record_id)).scalars())
            rollups = conn.execute(select(func.sum(hourly_rollups.c.count))).scalar_one()
        assert len(stored) == len(set(stored))  # exactly once
        assert sent <= set(stored)  # nothing acknowledged is lost
        # Batches cut off mid-flight were either fully stored or not at all.
        assert set(stored) <= {r for a in agents for r in _all_sent(a)}
        assert len(set(stored)) % BATCH == 0
        assert rollups == len(stored)
        server.stop()  # SIGTERM: a graceful shutdown, which uvicorn logs
        assert "Application shutdown complete" in server.log()
    finally:
        server.close()


def _all_sent(agent: Agent) -> range:
    return range(agent.base_record, agent.base_record + agent.next_batch * BATCH)
