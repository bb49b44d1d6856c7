"""The agent's spool: every event is written here (durably) before any attempt to send it,
and deleted only once the server has acknowledged it.

Record ids are derived from the event's own time and place (the frame's instant, the
channel, the event's index in that frame), so they grow with time and are the same when a
file is processed again after a crash: the server then sees duplicates, which it skips.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["Spool", "record_id"]


def record_id(frame_ms: int, channel_index: int, index_in_frame: int) -> int:
    """Unique per (frame instant, channel, event): < 2^63 for any date before 2200."""
    return (frame_ms * 64 + channel_index % 64) * 1000 + index_in_frame % 1000


class Spool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # an event in the spool survives a crash
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS spool (record_id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
        )
        self._lock = threading.Lock()
        self.added = threading.Event()

    def add(self, events: list[dict[str, Any]]) -> None:
        """Keep events until acknowledged; one already spooled (same record_id) is kept once."""
        if not events:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR IGNORE INTO spool (record_id, body) VALUES (?, ?)",
                [(e["record_id"], msgspec.json.encode(e).decode()) for e in events],
            )
            self._conn.execute("COMMIT")
        self.added.set()

    def oldest(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM spool ORDER BY record_id LIMIT ?", (limit,)
            ).fetchall()
        return [msgspec.json.decode(body) for (body,) in rows]

    def acknowledge(self, record_ids: list[int]) -> None:
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "DELETE FROM spool WHERE record_id = ?", [(r,) for r in record_ids]
            )
            self._conn.execute("COMMIT")

    def pending(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
