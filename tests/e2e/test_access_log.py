"""Feed tokens never reach the access log of a real `footfall serve`, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from footfall.api.access_log import redact
from footfall.benchmarks.harness import free_port
from footfall.services import feeds
from footfall.store.db import Database
from tests.conftest import Site

pytestmark = pytest.mark.slow


def test_redact_keeps_only_the_prefix() -> None:
    token = "0123456789abcdef0123456789abcdef"
    assert redact(f"GET /feed/report/{token}/csv?x=1") == "GET /feed/report/01234567.../csv?x=1"
    assert redact("/service/api/v1/events?nonce=1") == "/service/api/v1/events?nonce=1"


def test_feed_tokens_are_kept_out_of_the_access_log(db_url: str, db: Database, site: Site) -> None:
    token = feeds.create_feed(db, location_id=site.location_id, name="Hourly", metric="count").token
    port = free_port()
    env = {**os.environ, "FOOTFALL_DATABASE_URL": db_url}
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "footfall", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline
                assert server.poll() is None
                time.sleep(0.05)
            assert httpx.get(f"{base}/feed/report/{token}").status_code == 200
            assert httpx.get(f"{base}/feed/report/{token}/csv").status_code == 200
            assert httpx.get(f"{base}/feed/report/{token[:31]}x").status_code == 404
        finally:
            server.terminate()
            server.wait(timeout=30)
        log.seek(0)
        text = log.read().decode(errors="replace")
    assert f"/feed/report/{token[:8]}.../csv" in text  # the request was logged...
    assert token not in text  # ...without its token
    assert token[:31] not in text
