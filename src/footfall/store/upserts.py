"""Upserts described first and sent together: the tail of an ingest transaction.

An `Upsert` is an `INSERT ... ON CONFLICT` of many rows into one table. `run` sends
several at once: on PostgreSQL as one statement, each upsert a data-modifying WITH clause
reading its rows from one JSON parameter, so a batch's rollups, zone marks and coverage
rows cost one round trip and one parameter to adapt instead of a statement per table and
an array per column (measured: 100 us of server CPU per upsert instead of 190 us). On
SQLite, where a statement costs no round trip, each runs as its own `executemany`. Both
go straight to the driver's cursor (`store.db.driver_execute`): they run for every
events batch.

Running them in one statement changes nothing they do: they write different tables, each
row of an upsert has its own key (a statement may not update a row twice), and none reads
what another writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec
from sqlalchemy import Connection

from footfall.store.db import driver_execute, driver_executemany

__all__ = ["Upsert", "run"]

_ENCODER: Final = msgspec.json.Encoder()


@dataclass(frozen=True)
class Upsert:
    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # the PostgreSQL type of each column, in order
    conflict: str  # the ON CONFLICT clause
    rows: Sequence[tuple[object, ...]]


def run(conn: Connection, *upserts: Upsert) -> None:
    """Send the upserts that have rows, in the caller's transaction."""
    todo = [u for u in upserts if u.rows]
    if not todo:
        return
    if conn.dialect.name == "sqlite":
        for u in todo:
            marks = ", ".join(["?"] * len(u.columns))
            driver_executemany(
                conn,
                f"INSERT INTO {u.table} ({', '.join(u.columns)}) VALUES ({marks}) {u.conflict}",
                u.rows,
            )
        return
    clauses = []
    for n, u in enumerate(todo):
        values = ", ".join(f"(r->>{i})::{t}" for i, t in enumerate(u.types))
        clauses.append(
            f"w{n} AS (INSERT INTO {u.table} ({', '.join(u.columns)}) "
            f"SELECT {values} FROM json_array_elements(%s::json) AS r {u.conflict})"
        )
    # Data-modifying WITH clauses run exactly once, whether or not the query reads them.
    driver_execute(
        conn,
        f"WITH {', '.join(clauses)} SELECT 1",
        tuple(_ENCODER.encode(u.rows).decode() for u in todo),
    )
