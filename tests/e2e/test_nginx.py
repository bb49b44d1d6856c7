"""The documented load balancer (deploy/nginx.conf, docs/scaling.md) in front of two
`footfall serve` processes on one PostgreSQL database: agents and signed read requests
work through it unchanged (the signature covers the URI as sent, percent-encoding
included), and a batch resent through it is stored once whichever server takes it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall.benchmarks.harness import ServerProcess, free_port
from tests.conftest import Site
from tests.helpers import Signer, event, ok, post_events, put_config
from tests.needs import require

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).parents[2] / "deploy" / "nginx.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    require(found, "no nginx: install Debian's package (`apt-get install nginx`) to run this test")
    assert found is not None
    return found


@pytest.fixture
def balancer(engine: str, tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """nginx with the documented configuration, on free ports; (its URL, upstream ports)."""
    if engine != "postgresql":
        pytest.skip("several server processes share a database only on PostgreSQL")
    nginx = _nginx()
    port, upstreams = free_port(), [free_port(), free_port()]
    text = CONFIG.read_text()
    for old, new in (
        ("listen 8000;", f"listen 127.0.0.1:{port};"),
        ("127.0.0.1:8001", f"127.0.0.1:{upstreams[0]}"),
        ("127.0.0.1:8002", f"127.0.0.1:{upstreams[1]}"),
        ("/tmp/footfall-nginx", str(tmp_path / "nginx")),
    ):
        assert old in text, old  # the test follows the documented file, not a copy of it
        text = text.replace(old, new)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "error.log").read_text(errors="replace")
                    raise RuntimeError(f"nginx did not start: {log}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", upstreams
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_agents_and_signed_reads_work_through_the_balancer(
    db_url: str, site: Site, balancer: tuple[str, list[int]]
) -> None:
    url, ports = balancer
    servers = [ServerProcess(db_url, {"FOOTFALL_RATE_LIMIT": "0"}, port=p) for p in ports]
    try:
        for server in servers:
            server.start()
        with httpx.Client(base_url=url) as http:
            put_config(http, site.ingest_token)
            batch = [event(n, when="2026-11-25T10:15:02.250-05:00") for n in range(1, 21)]
            first = ok(post_events(http, site.ingest_token, batch))
            resent = [ok(post_events(http, site.ingest_token, batch)) for _ in range(4)]
            signer = Signer(site.public_key, site.secret)
            # `+` and `:` percent-encoded, as SDKs send them: nginx must pass them as they are.
            since = "2026-11-25T10%3A00%3A00%2B00%3A00"
            stored = ok(
                signer.get(http, "/events", f"location_id={site.location_id}&since={since}")
            )
            # A raw `+`, which the server reads as the space it decodes to: also unchanged.
            raw_plus = ok(signer.get(http, "/events", "since=2026-11-25T15:00:00+00:00"))
    finally:
        for server in servers:
            server.close()
    assert (first["accepted"], first["duplicates"]) == (20, 0)
    assert all((r["accepted"], r["duplicates"]) == (0, 20) for r in resent)
    assert sorted(e["record_id"] for e in stored) == list(range(1, 21))
    assert len(raw_plus) == 20
