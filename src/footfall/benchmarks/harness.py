"""Shared set-up for benchmarks: a fresh database with an account, location and key,
and a real `footfall serve` process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from footfall.services import management
from footfall.store.db import Database
from footfall.store.migrate import upgrade

__all__ = ["ServerProcess", "Site", "free_port", "new_site", "running_server"]


@dataclass(frozen=True)
class Site:
    db_url: str
    location_id: int
    ingest_token: str
    public_key: str
    secret: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_site(db_url: str, timezone: str = "UTC", *, secret_key: str | None = None) -> Site:
    """`secret_key`: the server key (PostgreSQL; SQLite makes its key file)."""
    db = Database(db_url, secret_key=secret_key)
    try:
        upgrade(db)
        account = management.create_account(db, "bench")
        issued = management.create_location(
            db, account_id=account.id, name="Bench store", timezone=timezone
        )
        key = management.create_key(db, account.id)
    finally:
        db.dispose()
    return Site(db_url, issued.location.id, issued.ingest_token, key.public_key, key.secret)


class ServerProcess:
    """`footfall serve` as a child process on a free loopback port."""

    def __init__(
        self,
        db_url: str,
        env: dict[str, str] | None = None,
        port: int = 0,
        *,
        module: str | None = None,
        workers: int = 1,
    ) -> None:
        """`module`: run `python -m module --port P` instead of `footfall serve`;
        `workers`: `footfall serve --workers N`."""
        self.db_url = db_url
        self.module = module
        self.workers = workers
        self.env = {**os.environ, "FOOTFALL_DATABASE_URL": db_url, **(env or {})}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()

    def start(self, timeout: float = 120) -> ServerProcess:
        # Generous: on a shared two-core machine under load, `--workers 2` took over 30 s
        # to answer; a server that exits is still reported at once (poll below).
        command = (
            [sys.executable, "-m", self.module, "--port", str(self.port)]
            if self.module
            else [
                sys.executable,
                "-m",
                "footfall",
                "serve",
                "--port",
                str(self.port),
                "--no-access-log",
                "--workers",
                str(self.workers),
            ]
        )
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"footfall serve did not start:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, then wait for the graceful shutdown; returns the exit status."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()
        self._log.close()


@contextmanager
def running_server(
    db_url: str, env: dict[str, str] | None = None, *, module: str | None = None
) -> Iterator[str]:
    """Start `footfall serve` on a free port; yield its base URL; stop it with SIGTERM."""
    server = ServerProcess(db_url, env, module=module)
    try:
        yield server.start().url
    finally:
        server.close()
