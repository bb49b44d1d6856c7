"""Screenshots of every dashboard page at desktop and phone width, into docs/screenshots/.

Run by `./scripts/screenshots` (needs Debian's chromium and the test extra's Playwright).
The data is a simulated shop: 8 days of history and today so far.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from footfall.benchmarks.harness import free_port, new_site
from footfall.config import Settings
from footfall.domain.times import now_ms, parse_zone
from footfall.services import feeds, occupancy, webhooks
from footfall.services.analytics import compute_histograms
from footfall.sim.agent import IngestAgent
from footfall.sim.layout import T
from footfall.sim.simulate import SimulationOptions, run_simulation
from footfall.sim.traffic import day_events
from footfall.store.db import Database

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
ADMIN = "screenshots-operator-token"  # at least 24 characters


def main() -> None:
    import threading
    import time

    import uvicorn

    from footfall.api.app import create_app

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(f"sqlite:///{Path(tmp) / 'shots.db'}", timezone="America/New_York")
        db = Database(site.db_url)
        port = free_port()
        settings = Settings(
            database_url=site.db_url, admin_token=ADMIN, public_url=f"http://127.0.0.1:{port}"
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, db=db), port=port, log_level="warning")
        )
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        run_simulation(
            SimulationOptions(url=base, token=site.ingest_token, days=8, show_progress=False)
        )
        zone = parse_zone("America/New_York")
        agent = IngestAgent(base, site.ingest_token)
        today = [e for e in day_events(datetime.now(zone).date(), zone) if e.time_ms <= now_ms()]
        for k in range(0, len(today), 1000):
            agent.send(today[k : k + 1000])
        agent.close()
        occupancy.create_counter(
            db,
            location_id=site.location_id,
            name="Shop floor",
            enter=(T.ENTER,),
            exit_=(T.EXIT,),
            capacity=120,
        )
        occupancy.create_queue(db, location_id=site.location_id, name="Checkout", zone=T.QUEUE)
        webhooks.create_endpoint(  # shown, never reached: no DNS needed to take pictures
            db,
            location_id=site.location_id,
            url="https://example.com/footfall-hook",
            allow_private=True,
        )
        feeds.create_feed(
            db,
            location_id=site.location_id,
            name="Entries by hour",
            metric="count",
            triggers=(T.ENTER,),
            period="yesterday",
        )
        compute_histograms(db)
        pages = {
            "login": "/login",
            "locations": "/",
            "location": f"/locations/{site.location_id}",
            "events": "/events",
            "webhooks": "/webhooks",
            "feeds": "/feeds",
            "keys": "/keys",
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(base + "/login")
                page.screenshot(path=str(OUT / f"login-{size}.png"))
                page.get_by_label("Operator token").fill(ADMIN)
                page.get_by_role("button", name="Sign in").click()
                for name, path in pages.items():
                    if name == "login":
                        continue
                    page.goto(base + path)
                    page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
                    print(f"docs/screenshots/{name}-{size}.png", file=sys.stderr)
            browser.close()
        server.should_exit = True
        serving.join(timeout=30)  # its jobs stop writing before the directory goes
        db.dispose()


if __name__ == "__main__":
    main()
