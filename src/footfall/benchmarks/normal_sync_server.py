"""`footfall serve` as it ran before SQLite commits were made fully durable
(`synchronous=NORMAL`), for `footfall bench` to show what `FULL` costs in the same run.

Benchmark-only: the product always runs `FULL`. Usage: `python -m
footfall.benchmarks.normal_sync_server --port P` with FOOTFALL_DATABASE_URL set.
"""

from __future__ import annotations

import argparse

import uvicorn

from footfall.api.app import create_app
from footfall.config import Settings
from footfall.store.db import Database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()
    settings = Settings.from_env()
    db = Database(settings.database_url, sqlite_synchronous="NORMAL")
    uvicorn.run(
        create_app(settings, db=db),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
