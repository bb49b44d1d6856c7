"""`footfall copy-database --to URL`: move a whole installation to another database, the
way from one SQLite file to PostgreSQL (docs/scaling.md).

Invariants:
- The source is only read (one snapshot), so it can keep serving until the switch; the
  target must be empty (migrated to the same schema here first), so nothing is merged.
- Every row of every table is copied as it is, ids included: API keys, ingest tokens,
  feed URLs, webhook ids and `after_id` paging positions stay valid. Each table is copied in
  one transaction of its own on the target; a failure names the table and leaves the
  target to be dropped and made again.
- Secrets sealed with the source's key are opened with it and sealed again with the
  target's (FOOTFALL_SECRET_KEY on PostgreSQL), so neither key has to be copied.
- Afterwards every id generator of the target (sequences and serial columns on
  PostgreSQL, `id_counters` on SQLite) stands past the largest id copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Connection, func, insert, select, text

from footfall.services.key_rotation import SEALED_COLUMNS
from footfall.store.db import Database
from footfall.store.ids import NUMBERED_TABLES, PG_SEQUENCES
from footfall.store.migrate import current_revision, head_revision, upgrade
from footfall.store.partitions import PartitionSet, week_of
from footfall.store.schema import events, id_counters, metadata

__all__ = ["CopyError", "Progress", "copy_database"]

_CHUNK: Final = 5000

# Told (table, rows copied so far, rows in all) as the copy goes.
Progress = Callable[[str, int, int], None]


class CopyError(Exception):
    """The copy cannot start or failed; the message says what to do."""


def _check(source: Database, target: Database) -> None:
    if current_revision(source) != head_revision():
        raise CopyError(
            f"the source database is at schema {current_revision(source)}, not "
            f"{head_revision()}: run `footfall init` on it first"
        )
    upgrade(target)
    with target.read() as conn:
        for table in metadata.sorted_tables:
            if table is id_counters:
                continue
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                raise CopyError(
                    f"the target database already holds data (table {table.name}): "
                    "give an empty database"
                )


def copy_database(
    source: Database, target: Database, progress: Progress | None = None
) -> dict[str, int]:
    """Copy every table from `source` to `target`; returns the rows copied per table."""
    _check(source, target)
    sealed = {table.name: purpose for table, purpose in SEALED_COLUMNS}  # column `secret`
    partitions = PartitionSet(target)
    copied: dict[str, int] = {}
    with source.read() as reader:
        for table in metadata.sorted_tables:
            if table is id_counters:
                continue
            total = int(reader.execute(select(func.count()).select_from(table)).scalar_one())
            done = 0
            if progress:
                progress(table.name, 0, total)
            rows = reader.execution_options(yield_per=_CHUNK).execute(
                select(table).order_by(*table.primary_key.columns)
            )
            with target.write() as writer:
                while chunk := [dict(r._mapping) for r in rows.fetchmany(_CHUNK)]:
                    if table.name in sealed:
                        _reseal(chunk, sealed[table.name], source, target)
                    if table is events:
                        partitions.ensure({week_of(r["event_time"]) for r in chunk})
                    writer.execute(insert(table), chunk)
                    done += len(chunk)
                    if progress:
                        progress(table.name, done, total)
            copied[table.name] = done
    with target.write() as writer:
        _advance_ids(writer)
    return copied


def _reseal(rows: list[dict[str, Any]], purpose: str, source: Database, target: Database) -> None:
    for row in rows:
        row["secret"] = target.keyring.seal(source.unseal(row["secret"], purpose), purpose)


def _advance_ids(conn: Connection) -> None:
    """Every id generator of the target past the largest id now stored."""
    for name, table_name in NUMBERED_TABLES.items():
        table = metadata.tables[table_name]
        highest = int(conn.execute(select(func.max(table.c.id))).scalar_one() or 0)
        if conn.dialect.name == "sqlite":
            conn.execute(
                text("UPDATE id_counters SET value = max(value, :v) WHERE name = :n"),
                {"v": highest, "n": name},
            )
        elif highest:
            conn.execute(text(f"SELECT setval('{PG_SEQUENCES[name]}', :v)"), {"v": highest})
    if conn.dialect.name == "sqlite":
        return
    for table in metadata.sorted_tables:  # serial columns (accounts.id, locations.id, ...)
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].name != "id":
            continue
        sequence = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar()
        largest = conn.execute(select(func.max(keys[0]))).scalar()
        if sequence and largest:
            conn.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": int(largest)})
