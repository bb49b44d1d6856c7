"""`/docs` and `/redoc` with the network cut: headless Chromium (Debian's package, driven by
Playwright) may reach the server on loopback and nothing else; every request elsewhere is
refused and recorded. The pages render every operation of the document from the
installed package's assets alone. Saves docs/screenshots/api-docs-offline.png."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).parent.parent.parent / "docs" / "screenshots" / "api-docs-offline.png"
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        missing = (
            f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`)"
        )
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser.new_page(viewport={"width": 1280, "height": 1900})
        browser.close()


def test_the_docs_render_every_operation_with_no_network(
    server: RunningServer, http: httpx.Client, page: Any
) -> None:
    document = http.get("/openapi.json").json()
    operations = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete")
    ] + [("POST", kind) for kind in document["webhooks"]]  # webhooks are shown as well
    blocked: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_loopback)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    shown = page.eval_on_selector_all(
        ".opblock-summary",
        "els => els.map(e => [e.querySelector('.opblock-summary-method').textContent.trim(),"
        " e.querySelector('.opblock-summary-path').getAttribute('data-path')])",
    )
    assert sorted(tuple(x) for x in shown) == sorted(operations)
    assert page.locator("text=Footfall").first.is_visible()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    page.goto(f"{server.url}/redoc")
    page.wait_for_selector("[data-section-id]", timeout=30_000)
    assert "/service/api/v1/coverage" in page.content()
    assert blocked == []  # nothing was even asked of another origin
    assert "cdn" not in http.get("/docs").text.lower()
