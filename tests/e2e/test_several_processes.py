"""Several server processes on one PostgreSQL database, under load: `footfall
serve --workers 2` beside a second `footfall serve`, with concurrent agents, readers
and a webhook receiver. Whatever process takes each request, there is one consistent
answer: every acknowledged event stored once and delivered once, nonces accepted at most
once and only increasing, the throttle held across processes, and every histogram equal
to the brute-force replay of what was stored."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from footfall.benchmarks.harness import ServerProcess
from footfall.client import Client
from footfall.domain.times import format_local, to_ms
from footfall.services import webhooks
from footfall.store.db import Database
from tests.conftest import Site
from tests.helpers import Signer, event, ok, post_events, put_config
from tests.integration.test_bad_clocks import assert_equals_reference, traffic
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

HOUR = 3_600_000
RATE = 5  # read-API requests per second per key
INTERVAL = 1 / RATE


@dataclass(frozen=True)
class Read:
    nonce: int
    sent: float
    received: float
    code: int
    retry_after: str | None


def _batches(end_hour: int) -> list[list[dict[str, Any]]]:
    """Zone joins and leaves over six past hours, and line crossings, in shuffled batches."""
    zone = traffic(end_hour - 8 * HOUR, UTC, seed=15, count=800)
    lines = [
        event(
            10_000 + n,
            trigger="t-enter" if n % 3 else "t-exit",
            when=format_local(end_hour - 7 * HOUR + n * 20_000, UTC),
        )
        for n in range(800)
    ]
    sent = zone + lines
    random.Random(7).shuffle(sent)
    return [sent[i : i + 40] for i in range(0, len(sent), 40)]


def test_two_servers_and_three_processes_give_one_consistent_answer(
    engine: str, db_url: str, db: Database, site: Site
) -> None:
    if engine != "postgresql":
        pytest.skip("several server processes share a database only on PostgreSQL")
    receiver = Receiver().start()
    env = {"FOOTFALL_WEBHOOK_ALLOW_PRIVATE": "1", "FOOTFALL_RATE_LIMIT": str(RATE)}
    servers = [ServerProcess(db_url, env, workers=2), ServerProcess(db_url, env)]
    end_hour = to_ms(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    batches = _batches(end_hour)
    reads: list[Read] = []
    answers: list[tuple[int, int]] = []
    lock = threading.Lock()
    nonces = itertools.count(1)
    loading = threading.Event()
    loading.set()
    try:
        webhooks.create_endpoint(
            db, allow_private=True, location_id=site.location_id, url=receiver.url
        )
        urls = [server.start().url for server in servers]
        with httpx.Client(base_url=urls[0]) as http:
            put_config(http, site.ingest_token)

        def agent(lane: int) -> None:
            """Sends its share of the batches, each to a random server, and every fifth
            one twice (as after a timeout), to the other server."""
            rng = random.Random(lane)
            clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
            try:
                for k, batch in enumerate(batches[lane::4]):
                    pick = rng.randrange(2)
                    result = ok(post_events(clients[pick], site.ingest_token, batch))
                    with lock:
                        answers.append((result["accepted"], result["duplicates"]))
                    if k % 5 == 0:
                        again = ok(post_events(clients[1 - pick], site.ingest_token, batch))
                        with lock:
                            answers.append((again["accepted"], again["duplicates"]))
            finally:
                for client in clients:
                    client.close()

        def reader(lane: int) -> None:
            rng = random.Random(100 + lane)
            signer = Signer(site.public_key, site.secret)
            clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
            try:
                while loading.is_set():
                    with lock:
                        nonce = next(nonces)
                    uri = f"/service/api/v1/totals/triggers?nonce={nonce}"
                    started = time.monotonic()
                    answer = signer.get_raw(clients[rng.randrange(2)], uri)
                    done = time.monotonic()
                    with lock:
                        reads.append(
                            Read(
                                nonce,
                                started,
                                done,
                                answer.json()["code"],
                                answer.headers.get("retry-after"),
                            )
                        )
            finally:
                for client in clients:
                    client.close()

        agents = [threading.Thread(target=agent, args=(n,)) for n in range(4)]
        readers = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
        for thread in agents + readers:
            thread.start()
        for thread in agents:
            thread.join(timeout=300)
        loading.clear()
        for thread in readers:
            thread.join(timeout=60)

        # -- events: each acknowledged once, whatever server or copy carried it ---------
        sent = {e["record_id"]: e for batch in batches for e in batch}
        assert sum(a for a, _ in answers) == len(sent)
        assert sum(a + d for a, d in answers) == sum(len(b) for b in batches) + sum(
            len(b) for lane in range(4) for b in batches[lane::4][::5]
        )
        with Client(urls[1], site.public_key, site.secret) as sdk:  # waits out a 429
            totals = sdk.totals_by_trigger(location_id=site.location_id)
        counted = Counter(e["trigger_id"] for e in sent.values())
        assert {t["trigger_id"]: t["count"] for t in totals} == dict(counted)

        # -- webhooks: every event delivered, each delivery once ------------------------
        receiver.wait_for(lambda got: sum(len(r.json) for r in got) >= len(sent), timeout=120)
        delivered = Counter(e["record_id"] for r in receiver.received for e in r.json)
        assert set(delivered) == set(sent)
        assert max(delivered.values()) == 1
        assert len({r.webhook_id for r in receiver.received}) == len(receiver.received)

        # -- histograms: the processes' jobs share the work and lose no update ----------
        zone_sent = [e for e in sent.values() if e["trigger_id"] == "t-shelf"]
        deadline = time.monotonic() + 90
        while True:
            try:
                assert_equals_reference(
                    db, site.location_id, zone_sent, UTC, to_ms(datetime.now(UTC))
                )
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        loading.clear()
        for server in servers:
            server.close()
        receiver.stop()

    # -- nonces and throttle, across the three processes --------------------------------
    accepted = sorted((r for r in reads if r.code == 0), key=lambda r: r.sent)
    assert len(accepted) >= 3
    assert any(r.code == 6 for r in reads)  # the load exceeded the rate: some were throttled
    assert all(r.retry_after and int(r.retry_after) >= 1 for r in reads if r.code == 6)
    assert {r.code for r in reads} <= {0, 3, 6}
    # Accepted instants are at least INTERVAL apart; each lies within its request's
    # [sent, received], so any k of them need a span of (k - 1) * INTERVAL.
    for i, first in enumerate(accepted):
        group = [r for r in accepted[i:] if r.sent <= first.sent + 2.0]
        span = max(r.received for r in group) - first.sent
        assert span >= (len(group) - 1) * INTERVAL - 0.01, (len(group), span)
    # A nonce is accepted at most once, and never one below an accepted nonce sent earlier
    # and answered before it was sent (the order the servers saw is then certain).
    assert len({r.nonce for r in accepted}) == len(accepted)
    for a, b in itertools.combinations(accepted, 2):
        if a.received < b.sent:
            assert b.nonce > a.nonce
