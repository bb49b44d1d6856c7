"""The Grafana dashboard against the real thing: Debian's Prometheus, configured from the
shipped deploy/prometheus/prometheus.yml, scrapes a live Footfall server with the metrics
token, and every panel's PromQL must answer with data. The committed dashboard JSON must
be what deploy/grafana/footfall_dashboard.py builds."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml

from footfall.config import Settings
from footfall.store.db import Database
from tests.conftest import TEST_RETENTION_DAYS, RunningServer, make_site
from tests.integration.test_metrics_exposition import _traffic
from tests.needs import require

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-the-test"


def _tool(name: str) -> str:
    found = shutil.which(name)
    require(found, f"{name} is missing: apt-get install prometheus (Debian's package has it)")
    assert found is not None
    return found


def _dashboard_module() -> ModuleType:
    path = ROOT / "deploy" / "grafana" / "footfall_dashboard.py"
    spec = importlib.util.spec_from_file_location("footfall_dashboard", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_dashboard_is_what_the_builder_writes() -> None:
    module = _dashboard_module()
    assert module.OUTPUT.read_text() == module.render(), (
        "run `python deploy/grafana/footfall_dashboard.py` and commit the JSON"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def prometheus(tmp_path: Path, db_url: str, db: Database) -> Iterator[tuple[str, httpx.Client]]:
    """(Prometheus' URL, a client of the Footfall server it scrapes every second)."""
    binary = _tool("prometheus")
    promtool = _tool("promtool")
    settings = Settings(
        database_url=db_url, rate_limit=0, retention_days=TEST_RETENTION_DAYS, metrics_token=TOKEN
    )
    with RunningServer(settings, db) as server, httpx.Client(base_url=server.url) as http:
        token_file = tmp_path / "metrics_token"
        token_file.write_text(TOKEN + "\n")
        config: dict[str, Any] = yaml.safe_load(
            (ROOT / "deploy/prometheus/prometheus.yml").read_text()
        )
        config["global"]["scrape_interval"] = "1s"
        [job] = config["scrape_configs"]
        job["authorization"]["credentials_file"] = str(token_file)
        job["static_configs"] = [{"targets": [server.url.removeprefix("http://")]}]
        config_file = tmp_path / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        checked = subprocess.run(
            [promtool, "check", "config", str(config_file)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        address = f"127.0.0.1:{_free_port()}"
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address={address}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield f"http://{address}", http
        finally:
            process.terminate()
            process.wait(timeout=30)


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    try:
        answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    except httpx.TransportError:
        return []  # not listening yet
    if answer.status_code != 200:
        return []
    body = answer.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _answers(prometheus: str, http: httpx.Client, expr: str) -> list[dict[str, Any]]:
    """The query's series once it has some (rates need two scrapes); each try also makes
    a request, so that the request-rate panels have something to count."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        result = _query(prometheus, expr)
        if result:
            return result
        http.get("/healthz")
        time.sleep(0.5)
    return []


def test_every_panel_query_answers_with_data(
    prometheus: tuple[str, httpx.Client], db: Database
) -> None:
    url, http = prometheus
    _traffic(http, db, make_site(db, name="Dashboard shop"))
    up = _answers(url, http, 'up{job="footfall"} == 1')
    assert up, "Prometheus never scraped the server with the metrics token"
    panels = _dashboard_module().PANELS
    answered = {}
    for panel in panels:
        expr = panel.expr.replace("$__rate_interval", "1m")
        answered[panel.title] = len(_answers(url, http, expr))
    print("series per panel:", answered)
    assert all(answered.values()), answered
