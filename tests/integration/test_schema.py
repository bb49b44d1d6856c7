"""The migrations create exactly the tables and columns the code queries."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from footfall.store.db import Database
from footfall.store.schema import metadata


def test_migrated_schema_matches_the_metadata(db: Database) -> None:
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)
    for name, table in metadata.tables.items():
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(columns) == {c.name for c in table.columns}, name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
        primary = inspector.get_pk_constraint(name)["constrained_columns"]
        expected = [c.name for c in table.primary_key.columns]
        if not db.is_sqlite:
            expected = list(table.info.get("postgresql_primary_key", expected))
        assert primary == expected, name


def test_events_are_partitioned_by_day_on_postgresql(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite keeps one events table")
    with db.engine.connect() as conn:
        strategy = conn.exec_driver_sql(
            "SELECT partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = 'events'::regclass"
        ).one()
    assert tuple(strategy) == ("r", "event_time")  # range of event_time


def test_growing_tables_are_keyed_by_location_first(db: Database) -> None:
    inspector = inspect(db.engine)
    for name in ("events", "hourly_rollups"):
        assert inspector.get_pk_constraint(name)["constrained_columns"][0] == "location_id"
        for index in inspector.get_indexes(name):
            assert index["column_names"][0] == "location_id", index


def test_issue_17_tables_follow_the_distribution_rules(db: Database) -> None:
    """Citus distributes by location: every key and unique constraint includes it."""
    inspector = inspect(db.engine)
    for name in ("coverage_quarters", "revisions", "occupancy_audit"):
        assert inspector.get_pk_constraint(name)["constrained_columns"][0] == "location_id"
        for unique in inspector.get_unique_constraints(name):
            assert "location_id" in unique["column_names"], (name, unique)
        for index in inspector.get_indexes(name):
            assert not index.get("unique") or "location_id" in index["column_names"], index


def test_sqlite_runs_in_wal_mode_with_full_synchronous_commits(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's journal settings; PostgreSQL commits durably by default")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # FULL (2): an acknowledged batch survives a power cut, not only a process crash.
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
