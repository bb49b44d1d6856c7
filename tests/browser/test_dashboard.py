"""The operator dashboard in headless Chromium (Debian's package, driven by Playwright) on
simulated shop data, on both engines: every page, charts equal to the read API, live
occupancy, keys, replays, and the sign-in and CSRF rules."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from footfall.client import Client, FootfallError
from footfall.config import Settings
from footfall.domain.times import format_local, now_ms, parse_zone, to_ms
from footfall.services import occupancy, webhooks
from footfall.services.analytics import compute_histograms
from footfall.sim.agent import IngestAgent
from footfall.sim.layout import T
from footfall.sim.simulate import SimulationOptions, run_simulation
from footfall.sim.traffic import day_events
from footfall.store.db import Database
from tests.conftest import RunningServer, Site, make_site
from tests.needs import require
from tests.webhook_receiver import Answer, Receiver

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ADMIN = "operator-token-for-tests"
# The shop's zone: one where it is afternoon now, so today already holds completed hours of
# shopping (stays, dwell times) whenever the suite runs; in Paris between midnight and the
# shop's first hour, today's charts are rightly empty and the checks below would prove
# nothing.
_ZONES = (
    "Europe/Paris", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "Pacific/Kiritimati",
    "Pacific/Honolulu", "America/Los_Angeles", "America/New_York", "America/Sao_Paulo",
)  # fmt: skip
ZONE = next(z for z in _ZONES if 13 <= datetime.now(ZoneInfo(z)).hour <= 20)

playwright = pytest.importorskip("playwright.sync_api")


@dataclass
class Shop:
    server: RunningServer
    site: Site
    receiver: Receiver
    counter_id: int


@pytest.fixture
def shop(db_url: str, db: Database) -> Iterator[Shop]:
    settings = Settings(
        database_url=db_url,
        rate_limit=0,
        admin_token=ADMIN,
        webhook_schedule=(0.1, 0.1),
        webhook_allow_private=True,  # the receiver is on loopback
    )
    receiver = Receiver(lambda _n: Answer(500)).start()
    site = make_site(db, timezone=ZONE, name="Demo shop")
    with RunningServer(settings, db) as server:
        run_simulation(
            SimulationOptions(
                url=server.url, token=site.ingest_token, days=8, seed=3, show_progress=False
            )
        )
        zone = parse_zone(ZONE)
        today = [e for e in day_events(datetime.now(zone).date(), zone, 3) if e.time_ms <= now_ms()]
        agent = IngestAgent(server.url, site.ingest_token)
        for start in range(0, len(today), 1000):
            agent.send(today[start : start + 1000])
        counter = occupancy.create_counter(
            db, location_id=site.location_id, name="Shop floor", enter=(T.ENTER,), exit_=(T.EXIT,)
        )
        occupancy.create_queue(db, location_id=site.location_id, name="Checkout", zone=T.QUEUE)
        webhooks.create_endpoint(
            db, location_id=site.location_id, url=receiver.url, allow_private=True
        )
        agent.send(
            [e for e in day_events(datetime.now(zone).date() - timedelta(days=9), zone, 4)][:5]
        )  # a few deliveries, all failing
        agent.close()
        compute_histograms(db)
        deadline = time.monotonic() + 30
        while not any(d.status == "failed" for d in webhooks.list_deliveries(db)):
            assert time.monotonic() < deadline, "no failed delivery"
            time.sleep(0.1)
        yield Shop(server, site, receiver, counter.id)
    receiver.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    require(
        Path(CHROMIUM).is_file(),
        f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
        "to run the dashboard's browser tests",
        found=CHROMIUM,
    )
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def sign_in(page: Any, base: str, token: str = ADMIN) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Operator token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_dashboard_end_to_end(shop: Shop, browser: Any, db: Database) -> None:
    base = shop.server.url
    page = browser.new_page()
    # The Content-Security-Policy blocks nothing the dashboard needs (no inline code).
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # No session: every page redirects to sign-in.
    page.goto(f"{base}/events")
    assert "/login" in page.url
    # A wrong token gets a clear message.
    sign_in(page, base, "not-the-token")
    assert page.get_by_role("alert").inner_text().startswith("That is not this server's")
    sign_in(page, base)
    page.goto(f"{base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Locations"
    assert page.locator("[data-status]").first.get_attribute("data-status") == "online"

    # Every page opens, with its heading.
    for path, heading in [
        ("/events", "Events"),
        ("/webhooks", "Webhooks"),
        ("/feeds", "Report feeds"),
        ("/keys", "API keys"),
        (f"/locations/{shop.site.location_id}", "Demo shop"),
    ]:
        page.goto(base + path)
        assert page.get_by_role("heading", level=1).inner_text() == heading, path

    # Charts show what the read API gives for the same ranges.
    api = Client(base, shop.site.public_key, shop.site.secret)
    zone = parse_zone(ZONE)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    for series, day in (("Today", today), ("Same weekday last week", today - timedelta(days=7))):
        bars = page.locator(f'#entries-chart rect[data-series="{series}"]')
        for index in range(bars.count()):
            start = to_ms(day.replace(hour=index))
            answer = api.totals_by_trigger(
                since=format_local(start, zone),
                until=format_local(start + 3_600_000, zone),
                trigger_id=T.ENTER,
                event_type="TripwireCrossed",
            )
            expected = answer[0]["count"] if answer else 0
            assert int(bars.nth(index).get_attribute("data-value")) == expected, (series, index)
    midnight = format_local(to_ms(today), zone)
    dwell = [0] * 200
    for item in api.iter_histograms(trigger_id=page.locator("#zone").input_value(), since=midnight):
        for minute, count in enumerate(item["lifetime_data"]):
            dwell[minute] += count
    bars = page.locator("#dwell-chart rect")
    assert [int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count())] == dwell[
        : bars.count()
    ]
    assert sum(dwell) > 0
    types: dict[str, int] = {}
    for item in api.totals_by_type(since=midnight):
        types[item["type"]] = types.get(item["type"], 0) + item["count"]
    cells = page.locator("#by-type [data-type]")
    shown = {
        cells.nth(i).get_attribute("data-type"): int(cells.nth(i).inner_text())
        for i in range(cells.count())
    }
    assert shown == types

    # Live occupancy changes after an ingest, without a reload.
    value = page.locator(f'[data-counter-id="{shop.counter_id}"]')
    before = int(value.inner_text())
    with httpx.Client(base_url=base) as http:
        posted = http.post(
            "/ingest/v1/events",
            headers={"Authorization": f"Bearer {shop.site.ingest_token}"},
            json=[
                {
                    "record_id": 9_000_000_001,
                    "event_type": "TripwireCrossed",
                    "trigger_id": T.ENTER,
                    "channel_id": "cam-entrance",
                    "event_time": format_local(now_ms(), zone),
                }
            ],
        )
        assert posted.status_code == 200
    # Polled from here: a JavaScript predicate would need 'unsafe-eval', which the CSP forbids.
    deadline = time.monotonic() + 10
    while value.inner_text() != str(before + 1):
        assert time.monotonic() < deadline, "the live value did not change"
        time.sleep(0.1)

    # Create a key (the secret is shown once), use it, revoke it.
    page.goto(f"{base}/keys")
    page.get_by_role("button", name="Create key").click()
    public_key = page.locator("#new-public").inner_text()
    secret = page.locator("#new-secret").inner_text()
    fresh = Client(base, public_key, secret)
    assert fresh.locations()
    page.goto(f"{base}/keys")
    page.get_by_role("button", name=f"Revoke {public_key}").click()
    assert page.locator(f'tr[data-key="{public_key}"]').get_attribute("data-state") == "revoked"
    with pytest.raises(FootfallError) as refused:
        fresh.locations()
    fresh.close()
    assert refused.value.code == 1

    # Replay a failed delivery once the receiver works again.
    shop.receiver.answer = lambda _n: Answer(200)
    page.goto(f"{base}/webhooks")
    failed_row = page.locator('tr[data-status="failed"]').first
    delivery = failed_row.get_attribute("data-delivery")
    failed_row.get_by_role("button", name="Replay").click()
    assert "queued again" in page.get_by_role("status").inner_text()
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{base}/webhooks")
        if (
            page.locator(f'tr[data-delivery="{delivery}"]').get_attribute("data-status")
            == "delivered"
        ):
            break
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert any(r.status == 200 for r in shop.receiver.received)

    # Feeds: create one, its CSV URL works.
    page.goto(f"{base}/feeds")
    page.get_by_label("Name").fill("Entries by hour")
    page.get_by_label("Triggers (ids, comma-separated; count, counter and dwell)").fill(T.ENTER)
    page.get_by_role("button", name="Create feed").click()
    csv_url = page.get_by_label("CSV URL of Entries by hour").input_value()
    assert csv_url.startswith("http://127.0.0.1:8000/feed/report/")  # FOOTFALL_PUBLIC_URL
    path = csv_url.removeprefix("http://127.0.0.1:8000")
    assert httpx.get(base + path).text.startswith('"Date","Enter"')

    # Keyboard: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert violations == []
    api.close()


def test_forms_without_csrf_are_refused(shop: Shop, browser: Any) -> None:
    page = browser.new_page()
    sign_in(page, shop.server.url)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    session = cookies["footfall_session"]
    with httpx.Client(base_url=shop.server.url, cookies={"footfall_session": session}) as http:
        refused = http.post("/keys/create", data={"account_id": str(shop.site.account_id)})
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        assert http.post("/logout").status_code == 403
    cookie = next(c for c in page.context.cookies() if c["name"] == "footfall_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_without_an_admin_token_the_dashboard_explains_how_to_enable_it(
    settings: Settings, db: Database
) -> None:
    with RunningServer(settings, db) as server:
        page = httpx.get(server.url + "/")
        assert page.status_code == 200
        assert "FOOTFALL_ADMIN_TOKEN" in page.text
        assert httpx.get(server.url + "/keys").headers["location"] == "/"
