"""Objects Frigate still reports in a zone, and their last sign of presence sent.

Footfall closes a stay 4 hours after the object's last sign of presence (docs/api.md,
Histograms); Frigate says nothing about a parked car for hours. This table (in the
spool's file, so it survives a restart) remembers, per (zone trigger, object), the stay
the bridge reported a join for and the last sign it sent (the join, or a Loitering), and
turns Frigate's messages and the passing of time into Loitering events at most an hour
apart (`frigate.loitering`):

- a join opens a row (its sign: the join time);
- a message saying the object is still in the zone, or that it left (`update`, `end`),
  first fills the gap from the last sign up to that message's instant, so a message that
  arrives hours late (the bridge was stopped, the broker kept it) still gives every hour;
  a leave then removes the row;
- `due(now)` fills every row up to the bridge's clock: a car no message mentions stays in;
- `forget()` drops every row when Frigate goes offline (its tracked objects are lost with
  it and no `end` will come for them): their stays close 4 hours after the last sign.

Events are spooled before the rows move on (`apply`/`due` take the spool's `add`): a crash
in between sends the same Loitering again (same record ids, stored once), never none.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from footfall.bridge.frigate import Place, Sighting, loitering

__all__ = ["Presences"]

Spooler = Callable[[list[dict[str, Any]]], None]

_COLUMNS = (
    "trigger_id, object_id, channel_id, camera, zone, object_key, origin, suborigin, last_sign"
)


class Presences:
    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS frigate_presence (trigger_id TEXT NOT NULL, "
            "object_id INTEGER NOT NULL, channel_id TEXT NOT NULL, camera TEXT NOT NULL, "
            "zone TEXT NOT NULL, object_key TEXT NOT NULL, origin TEXT NOT NULL, "
            "suborigin TEXT NOT NULL, last_sign INTEGER NOT NULL, "
            "PRIMARY KEY (trigger_id, object_id))"
        )
        self._lock = threading.Lock()  # MQTT thread (messages) and sender thread (due)

    def apply(self, sightings: Iterable[Sighting], spool: Spooler) -> list[dict[str, Any]]:
        """One message's sightings: spool the Loitering they call for (with `spool`, before
        any row changes), then record joins, signs and leaves. Returns the Loitering."""
        with self._lock:
            rows = self._rows()
            events: list[dict[str, Any]] = []
            moved: dict[tuple[str, int], tuple[Sighting, int] | None] = {}
            for s in sightings:
                key = (s.place.trigger_id, s.object_id)
                known = moved[key] if key in moved else rows.get(key)
                if s.status == "joined":
                    last = s.at if known is None else max(known[1], s.at)
                    moved[key] = (s, last)
                    continue
                if known is None:
                    continue  # no join of ours: a Loitering would open nothing
                filled, last = loitering(known[0], known[1], s.at)
                events += filled
                moved[key] = None if s.status == "left" else (known[0], last)
            if events:
                spool(events)
            self._write(moved)
            return events

    def due(self, now: int, spool: Spooler) -> list[dict[str, Any]]:
        """Loitering for every object still in a zone, up to `now` (spooled first)."""
        with self._lock:
            events: list[dict[str, Any]] = []
            moved: dict[tuple[str, int], tuple[Sighting, int] | None] = {}
            for key, (sighting, last) in self._rows().items():
                filled, new_last = loitering(sighting, last, now)
                if filled:
                    events += filled
                    moved[key] = (sighting, new_last)
            if events:
                spool(events)
            self._write(moved)
            return events

    def forget(self) -> int:
        """Drop every row (Frigate went offline); returns how many there were."""
        with self._lock:
            return self._conn.execute("DELETE FROM frigate_presence").rowcount

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM frigate_presence").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _rows(self) -> dict[tuple[str, int], tuple[Sighting, int]]:
        rows: dict[tuple[str, int], tuple[Sighting, int]] = {}
        for trigger, obj, channel, camera, zone, key, origin, sub, last in self._conn.execute(
            f"SELECT {_COLUMNS} FROM frigate_presence"
        ):
            place = Place(channel, trigger, camera, zone)
            rows[(trigger, obj)] = (Sighting(place, key, obj, origin, sub, "inside", last), last)
        return rows

    def _write(self, moved: dict[tuple[str, int], tuple[Sighting, int] | None]) -> None:
        if not moved:
            return
        self._conn.execute("BEGIN")
        for (trigger, obj), value in moved.items():
            if value is None:
                self._conn.execute(
                    "DELETE FROM frigate_presence WHERE trigger_id = ? AND object_id = ?",
                    (trigger, obj),
                )
                continue
            s, last = value
            self._conn.execute(
                f"INSERT OR REPLACE INTO frigate_presence ({_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    trigger,
                    obj,
                    s.place.channel_id,
                    s.place.camera,
                    s.place.zone,
                    s.object_key,
                    s.origin,
                    s.suborigin,
                    last,
                ),
            )
        self._conn.execute("COMMIT")
