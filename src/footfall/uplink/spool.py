"""The edge's spool (the agent's and the Frigate bridge's): every event is written here
(durably) before any attempt to send it, and deleted only once the server has
acknowledged it.

An event the server refuses (a 422 naming it: a clock that reset to 1970, a trigger the
config no longer has) moves, in one transaction, to the `dead_letters` table with the
server's reasons: it is kept for the operator (`footfall agent --dead-letters`) and never
blocks the events queued behind it.

Heartbeats are spooled the same way, one row per (channel, instant), and
deleted once the server recorded them: coverage then shows that the cameras were
watching while the server was away, not a gap, because the events of that time were
spooled too.

Record ids are derived from the event's own time and place (the frame's instant, the
channel, the event's index in that frame), so they grow with time and are the same when a
file is processed again after a crash: the server then sees duplicates, which it skips.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["DeadLetter", "Spool", "SpooledBeat", "record_id"]


@dataclass(frozen=True)
class DeadLetter:
    """An event the server refused, with why and when (ms since the epoch)."""

    record_id: int
    event: dict[str, Any]
    reason: str
    refused_at: int


@dataclass(frozen=True)
class SpooledBeat:
    """A channel's liveness at one instant (ms since the epoch), waiting to be sent."""

    channel_id: str
    at: int
    status: str


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
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS dead_letters (record_id INTEGER PRIMARY KEY, "
            "body TEXT NOT NULL, reason TEXT NOT NULL, refused_at INTEGER NOT NULL)"
        )
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS heartbeats (channel_id TEXT NOT NULL, at INTEGER NOT NULL, "
            "status TEXT NOT NULL, PRIMARY KEY (channel_id, at))"
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

    def dead_letter(self, reasons: Mapping[int, str], at: int) -> None:
        """Move the spooled events `reasons` names (record_id → why) to the dead letters."""
        if not reasons:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT OR REPLACE INTO dead_letters (record_id, body, reason, refused_at) "
                "SELECT record_id, body, ?, ? FROM spool WHERE record_id = ?",
                [(reason, at, rid) for rid, reason in reasons.items()],
            )
            self._conn.executemany(
                "DELETE FROM spool WHERE record_id = ?", [(rid,) for rid in reasons]
            )
            self._conn.execute("COMMIT")

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT record_id, body, reason, refused_at FROM dead_letters ORDER BY record_id"
            ).fetchall()
        return [
            DeadLetter(int(rid), msgspec.json.decode(body), reason, int(at))
            for rid, body, reason, at in rows
        ]

    def pending(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM spool").fetchone()[0])

    def add_heartbeat(self, channel_id: str, at: int, status: str) -> None:
        """Keep a heartbeat until the server recorded it (one per channel and instant)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO heartbeats (channel_id, at, status) VALUES (?, ?, ?)",
                (channel_id, at, status),
            )
        self.added.set()

    def oldest_heartbeats(self, limit: int) -> list[SpooledBeat]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT channel_id, at, status FROM heartbeats ORDER BY at, channel_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [SpooledBeat(str(c), int(a), str(s)) for c, a, s in rows]

    def forget_heartbeats(self, beats: list[SpooledBeat]) -> None:
        """Delete heartbeats the server recorded (or refused for good)."""
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "DELETE FROM heartbeats WHERE channel_id = ? AND at = ?",
                [(b.channel_id, b.at) for b in beats],
            )
            self._conn.execute("COMMIT")

    def pending_heartbeats(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM heartbeats").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
