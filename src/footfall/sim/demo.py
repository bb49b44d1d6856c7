"""`footfall demo`: Footfall working on a realistic shop within a minute, zero set-up.

Creates a fresh SQLite database in the working directory with a demo account, a location
in a real time zone and an API key; prints everything a new user needs (key, secret,
ingest token, URLs, a copy-paste signed request) before it backfills; then serves, with
the simulator running live until Ctrl-C.
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn
from rich.console import Console

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.root import Database, new_database, upgrade_schema
from footfall.services import management, occupancy
from footfall.services.ingest import ingest_locally
from footfall.sim.layout import STORE_CONFIG, T
from footfall.sim.simulate import SimulationOptions, run_simulation

__all__ = ["DEMO_DB", "READY_LINE", "run_demo"]

DEMO_DB = "footfall-demo.db"
DEMO_ZONE = "America/New_York"
READY_LINE = "Footfall demo is ready"
EXAMPLE_BEGIN = "# --- copy from here ---"
EXAMPLE_END = "# --- to here ---"


def _fresh_database(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _banner(base: str, location_id: int, key: str, secret: str, token: str, admin: str) -> str:
    uri = (
        f"/service/api/v1/totals/triggers?location_id={location_id}"
        "&nonce=$(( $(date +%s%N) / 1000 ))"
    )
    return f"""
[bold]Footfall demo[/bold] — a simulated shop in {DEMO_ZONE}

  Server          {base}
  Dashboard       {base}/   (operator token: {admin})
  API docs        {base}/docs
  Location id     {location_id}
  API key         {key}
  API secret      {secret}
  Ingest token    {token}

A signed request (the shop's totals per trigger), to paste into a shell:

{EXAMPLE_BEGIN}
KEY={key}; SECRET={secret}
URI="{uri}"
curl -s "{base}$URI" -H "X-Key: $KEY" -H "X-Sign: $(printf '%s' "$URI" | openssl dgst -sha512 -hmac "$SECRET" -r | cut -d' ' -f1)"; echo
{EXAMPLE_END}

Or with the command line:  FOOTFALL_API_URL={base} FOOTFALL_API_KEY={key} FOOTFALL_API_SECRET={secret} footfall api events --limit 5
"""


@dataclass(frozen=True)
class _Shop:
    location_id: int
    public_key: str
    secret: str
    ingest_token: str


def _demo_settings(path: Path, *, host: str, port: int, days: int) -> Settings:
    base = Settings.from_env()
    return Settings(
        database_url=_fresh_database(path),
        rate_limit=base.rate_limit,
        retention_days=max(base.retention_days, days + 1),
        webhook_timeout=base.webhook_timeout,
        public_url=f"http://{host}:{port}" if host != "0.0.0.0" else f"http://127.0.0.1:{port}",
        admin_token=base.dashboard_token or secrets.token_urlsafe(24),
    )


def _open_shop(db: Database) -> _Shop:
    """The demo tenant: an account, a location with the simulated cameras, a read key,
    two occupancy counters and a queue."""
    account = management.create_account(db, "Demo Retail")
    issued = management.create_location(
        db, account_id=account.id, name="Demo Store, Manhattan", timezone=DEMO_ZONE
    )
    key = management.create_key(db, account.id)
    location_id = issued.location.id
    # Declare the simulated store's cameras now, so counters can refer to its triggers.
    ingest_locally(db, location_id, [], config=STORE_CONFIG)
    occupancy.create_counter(
        db,
        location_id=location_id,
        name="Shop floor",
        enter=(T.ENTER,),
        exit_=(T.EXIT,),
        capacity=120,
    )
    occupancy.create_counter(
        db, location_id=location_id, name="Car park", zone=T.PARKING, capacity=80
    )
    occupancy.create_queue(db, location_id=location_id, name="Checkout", zone=T.QUEUE)
    return _Shop(location_id, key.public_key, key.secret, issued.ingest_token)


def _serve(server: uvicorn.Server, host: str, port: int) -> threading.Thread:
    serving = threading.Thread(target=server.run, name="footfall-demo-server", daemon=True)
    serving.start()
    while not server.started:
        if not serving.is_alive():
            raise SystemExit(f"error: could not serve on {host}:{port} (is the port in use?)")
        time.sleep(0.05)
    return serving


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def run_demo(
    *, port: int = 8000, days: int = 14, host: str = "127.0.0.1", directory: Path | None = None
) -> None:
    console = Console(highlight=False, soft_wrap=True)
    settings = _demo_settings((directory or Path.cwd()) / DEMO_DB, host=host, port=port, days=days)
    assert settings.admin_token is not None  # set by _demo_settings
    db = new_database(settings.database_url)
    upgrade_schema(db)
    shop = _open_shop(db)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db=db),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,  # X-Forwarded-For: FOOTFALL_FORWARDED_ALLOW_IPS only
        )
    )
    serving = _serve(server, host, port)
    console.print(
        _banner(
            settings.public_url,
            shop.location_id,
            shop.public_key,
            shop.secret,
            shop.ingest_token,
            settings.admin_token,
        )
    )
    stop = _stop_on_signals()

    def ready() -> None:
        console.print(
            f"[bold green]{READY_LINE}[/bold green]: {days} days of traffic loaded; "
            "the simulator is now live. Ctrl-C stops it."
        )

    options = SimulationOptions(
        url=f"http://127.0.0.1:{port}",
        token=shop.ingest_token,
        location_id=shop.location_id,
        days=days,
        live=True,
    )
    simulator = threading.Thread(
        target=run_simulation,
        args=(options,),
        kwargs={"stop": stop, "on_backfilled": ready, "console": Console(stderr=True)},
        name="footfall-demo-simulator",
        daemon=True,
    )
    simulator.start()
    while not stop.wait(0.5):
        if not serving.is_alive() or not simulator.is_alive():
            break
    stop.set()
    simulator.join(timeout=10)
    server.should_exit = True
    serving.join(timeout=30)
    db.dispose()
