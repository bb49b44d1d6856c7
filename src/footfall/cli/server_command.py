"""`footfall serve`: the HTTP server and its background jobs, under uvicorn. It refuses to
start on a missing or outdated schema or without the secrets' key, before any worker
starts; the workers then build their app from the environment (`footfall.api.asgi`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from footfall.cli.common import DbOption, open_db, settings_for
from footfall.cli.output import reporting_errors
from footfall.services.key_check import verify_server_key

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (more than 1 makes sense on PostgreSQL).", min=1)
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    db: DbOption = None,
) -> None:
    """Run the HTTP server with its background jobs (Ctrl-C or SIGTERM stops it cleanly)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from footfall import logs

    # Refuse to start on a missing or outdated schema, or without the secrets' key.
    with reporting_errors(), open_db(db) as database:
        verify_server_key(database)
        settings = settings_for(db)
        os.environ["FOOTFALL_DATABASE_URL"] = settings.database_url
    json_logs = settings.log_format == "json"
    with _metrics_directory(workers):
        uvicorn.run(
            "footfall.api.asgi:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=30,
            log_level="info",
            # X-Forwarded-For is read by the app, from FOOTFALL_FORWARDED_ALLOW_IPS only
            # (uvicorn's own default would trust it from 127.0.0.1).
            proxy_headers=False,
            # In JSON, Footfall's own access log (with request ids) replaces uvicorn's.
            access_log=access_log and not json_logs,
            log_config=logs.dict_config(access_log=access_log) if json_logs else LOGGING_CONFIG,
        )


@contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """Several workers: prometheus_client's multiprocess mode, in a directory made fresh
    for this run (stale files of an earlier run would add up), removed afterwards.

    Set before the workers start, so they read it when they import prometheus_client.
    PROMETHEUS_MULTIPROC_DIR set by the operator is used as it is (and kept).
    """
    if workers == 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="footfall-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
