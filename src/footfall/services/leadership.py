"""At most one process per database holds a named leadership at a time.

`footfall serve --workers N` runs N copies of the app; only one of them may publish to
MQTT (one session, one last will, one publish per change). The holder is whoever takes
the lock first; when it stops or dies the lock is freed and another takes it at its next
`hold()`:

- PostgreSQL: a session-level advisory lock on a connection kept for it (a dead process's
  connection closes, releasing the lock; advisory locks are per database, like Footfall);
- SQLite: an exclusive `flock` on a file beside the database (SQLite serves one machine,
  and the kernel releases the lock of a dead process).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path

from sqlalchemy import Connection

from footfall.store import advisory_locks
from footfall.store.db import Database

__all__ = ["Leadership"]

log = logging.getLogger("footfall.leadership")


class Leadership:
    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        digest = hashlib.sha256(f"footfall:{name}".encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None

    def hold(self) -> bool:
        """Take the leadership if free, or confirm it is still ours; True when held."""
        try:
            return self._hold_pg() if not self.db.is_sqlite else self._hold_file()
        except Exception:
            log.exception("leadership %s: cannot take or check the lock", self.name)
            self.release()
            return False

    def _hold_pg(self) -> bool:
        if self._conn is not None:
            advisory_locks.still_connected(self._conn)  # still connected, so still holding it
            return True
        conn = advisory_locks.lock_connection(self.db)
        try:
            taken = advisory_locks.try_lock(conn, self._key)
        except Exception:
            conn.invalidate()
            conn.close()
            raise
        if taken:
            self._conn = conn
            return True
        conn.close()
        return False

    def _hold_file(self) -> bool:
        if self._fd is not None:
            return True
        database = self.db.engine.url.database
        assert database is not None
        path = Path(f"{database}-{self.name}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                advisory_locks.unlock(conn, self._key)
                conn.close()
            except Exception:
                conn.invalidate()  # really closed: the server drops the lock with it
                conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor releases the flock
