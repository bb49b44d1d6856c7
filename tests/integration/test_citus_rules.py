"""Every table follows Citus's rules for distribution by location.

Citus is not installable here, so the rules it documents are checked statically against
the catalog of a PostgreSQL database migrated by `footfall init`, with the classification
in `footfall.store.distribution`:

- every table is classified exactly once (reference, distributed or local);
- a distributed table has its distribution column, NOT NULL (Citus cannot route a row
  without it), of the same type across a colocation group;
- its primary key, every unique constraint and every unique index include that column
  (Citus checks uniqueness within one shard only);
- a foreign key between distributed tables joins two tables of one colocation group and
  maps distribution column to distribution column;
- no foreign key goes from a reference (or local) table to a distributed one, nor from a
  distributed table to a local one (Citus supports neither).

A second test builds a schema breaking each rule and checks the checker names every
break, so a pass means something. The docs must show the statements rendered from the
same classification, verbatim.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from footfall.store import distribution
from footfall.store.db import Database
from footfall.store.distribution import DistributedTable, colocation_group
from footfall.store.schema import metadata

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Catalog:
    tables: set[str] = field(default_factory=set)
    # table -> column -> (type, NOT NULL)
    columns: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)
    # (table, index or constraint name, key columns); None for an expression
    unique_keys: list[tuple[str, str, list[str | None]]] = field(default_factory=list)
    # (name, table, columns, referenced table, referenced columns)
    foreign_keys: list[tuple[str, str, list[str], str, list[str]]] = field(default_factory=list)


def read_catalog(conn: Connection, schema: str) -> Catalog:
    """The tables, columns, unique keys and foreign keys of `schema` (partitions left out:
    Citus distributes them with their parent)."""
    catalog = Catalog()
    in_schema = "n.nspname = :schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    args = {"schema": schema}
    catalog.tables = set(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE {in_schema}"
            ),
            args,
        ).scalars()
    )
    for table, column, type_, not_null in conn.execute(
        text(
            "SELECT c.relname, a.attname, a.atttypid::regtype::text, a.attnotnull "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE {in_schema} AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        args,
    ):
        catalog.columns.setdefault(table, {})[column] = (type_, bool(not_null))
    # Every primary key and unique constraint is backed by a unique index, so the unique
    # indexes are all of them; only key columns count (INCLUDE columns do not).
    for table, index, columns in conn.execute(
        text(
            "SELECT c.relname, COALESCE(con.conname, i.relname), "
            "ARRAY(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(num, ord) "
            "LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num "
            "WHERE k.ord <= x.indnkeyatts ORDER BY k.ord) "
            "FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid "
            f"AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u') "
            f"WHERE x.indisunique AND {in_schema}"
        ),
        args,
    ):
        catalog.unique_keys.append((table, index, list(columns)))

    def names(attnums: str, relid: str) -> str:
        return (
            f"ARRAY(SELECT a.attname FROM unnest({attnums}) WITH ORDINALITY k(num, ord) "
            f"JOIN pg_attribute a ON a.attrelid = {relid} AND a.attnum = k.num ORDER BY k.ord)"
        )

    # conparentid = 0: a key on a partitioned table is listed once, not per partition.
    for row in conn.execute(
        text(
            f"SELECT con.conname, c.relname, {names('con.conkey', 'con.conrelid')}, "
            f"f.relname, {names('con.confkey', 'con.confrelid')} "
            "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_class f ON f.oid = con.confrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE con.contype = 'f' AND con.conparentid = 0 AND {in_schema}"
        ),
        args,
    ):
        catalog.foreign_keys.append((row[0], row[1], list(row[2]), row[3], list(row[4])))
    return catalog


def violations(
    catalog: Catalog,
    reference: Sequence[str],
    distributed: Sequence[DistributedTable],
    local: Mapping[str, str],
) -> set[str]:
    """Every break of Citus's rules in `catalog` under this classification."""
    found: set[str] = set()
    classified = Counter([*reference, *(t.name for t in distributed), *local])
    for name in sorted(catalog.tables | set(classified)):
        if name not in catalog.tables:
            found.add(f"{name}: classified, but not in the schema")
        elif classified[name] != 1:
            found.add(f"{name}: classified {classified[name]} times, expected once")
    by_name = {t.name: t for t in distributed}
    group_type: dict[str, set[str]] = {}
    for table in distributed:
        column = catalog.columns.get(table.name, {}).get(table.column)
        if table.name not in catalog.tables:
            continue
        if column is None:
            found.add(f"{table.name}: no distribution column {table.column}")
            continue
        type_, not_null = column
        if not not_null:
            found.add(f"{table.name}.{table.column}: distribution column may be NULL")
        group_type.setdefault(colocation_group(table), set()).add(type_)
    for group, types in group_type.items():
        if len(types) > 1:
            found.add(f"colocation group {group}: distribution columns of types {sorted(types)}")
    for table_name, index, key in catalog.unique_keys:
        owner = by_name.get(table_name)
        if owner is not None and owner.column not in key:
            found.add(f"{table_name}: unique {index} {key} lacks {owner.column}")
    kinds = {
        **{name: "reference" for name in reference},
        **{t.name: "distributed" for t in distributed},
        **{name: "local" for name in local},
    }
    for fk, source, columns, target, target_columns in catalog.foreign_keys:
        source_kind, target_kind = kinds.get(source), kinds.get(target)
        if target_kind == "distributed" and source_kind != "distributed":
            found.add(f"{fk}: {source_kind} table {source} references distributed {target}")
        elif source_kind == "distributed" and target_kind == "local":
            found.add(f"{fk}: distributed {source} references local table {target}")
        elif source_kind == target_kind == "distributed":
            child, parent = by_name[source], by_name[target]
            if colocation_group(child) != colocation_group(parent):
                found.add(f"{fk}: {source} and {target} are not colocated")
            pairs = set(zip(columns, target_columns, strict=True))
            if (child.column, parent.column) not in pairs:
                found.add(
                    f"{fk}: {source}{columns} -> {target}{target_columns} does not map "
                    f"{child.column} to {parent.column}"
                )
    return found


def _postgresql_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip(
            "Citus is distributed PostgreSQL: its rules are checked against the migrated "
            "PostgreSQL catalog (pg_constraint, pg_index); SQLite has no such deployment"
        )


def test_every_table_follows_the_citus_rules(db: Database) -> None:
    _postgresql_only(db)
    with db.read() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        catalog = read_catalog(conn, schema)
    assert "locations" in catalog.tables  # the catalog was read from the migrated schema
    found = violations(
        catalog, distribution.REFERENCE, distribution.DISTRIBUTED, distribution.LOCAL
    )
    assert not found, "\n".join(sorted(found))


def test_the_checker_names_every_break_of_the_rules(db: Database) -> None:
    _postgresql_only(db)
    with db.write() as conn:
        for statement in (
            "CREATE SCHEMA broken",
            "CREATE TABLE broken.acc (id int PRIMARY KEY)",
            "CREATE TABLE broken.loc (id int PRIMARY KEY, acc int REFERENCES broken.acc (id), "
            "hash text UNIQUE)",
            # PK without location_id, nullable location_id, a unique index without it.
            "CREATE TABLE broken.thing (id int PRIMARY KEY, "
            "location_id int REFERENCES broken.loc (id), tok text)",
            "CREATE UNIQUE INDEX thing_tok ON broken.thing (tok)",
            # A foreign key between distributed tables that leaves out location_id.
            "CREATE TABLE broken.child (location_id int NOT NULL, thing int NOT NULL "
            "REFERENCES broken.thing (id), PRIMARY KEY (location_id, thing))",
            # Distributed by a column of another type, in the same colocation group.
            "CREATE TABLE broken.wide (location_id bigint NOT NULL PRIMARY KEY)",
            # A reference table pointing at a distributed one.
            "CREATE TABLE broken.ref (id int PRIMARY KEY, loc int REFERENCES broken.loc (id))",
            # A distributed table pointing at a local one, and one in its own group.
            "CREATE TABLE broken.counter (name text PRIMARY KEY)",
            "CREATE TABLE broken.alone (key_id int NOT NULL PRIMARY KEY)",
            "CREATE TABLE broken.tally (location_id int NOT NULL, key_id int NOT NULL "
            "REFERENCES broken.alone (key_id), name text REFERENCES broken.counter (name), "
            "PRIMARY KEY (location_id, key_id))",
            "CREATE TABLE broken.stray (x int)",
        ):
            conn.execute(text(statement))
        catalog = read_catalog(conn, "broken")
    tenant = [
        DistributedTable(name, "location_id", "loc") for name in ("thing", "child", "wide", "tally")
    ]
    found = violations(
        catalog,
        reference=("acc", "ref", "acc"),
        distributed=[
            DistributedTable("loc", "id", "default"),
            *tenant,
            DistributedTable("alone", "key_id", "none"),
            DistributedTable("ghost", "location_id", "loc"),
        ],
        local={"counter": "why"},
    )
    assert found == {
        "acc: classified 2 times, expected once",
        "stray: classified 0 times, expected once",
        "ghost: classified, but not in the schema",
        "loc: unique loc_hash_key ['hash'] lacks id",
        "thing.location_id: distribution column may be NULL",
        "thing: unique thing_pkey ['id'] lacks location_id",
        "thing: unique thing_tok ['tok'] lacks location_id",
        "colocation group loc: distribution columns of types ['bigint', 'integer']",
        "child_thing_fkey: child['thing'] -> thing['id'] does not map location_id to location_id",
        "ref_loc_fkey: reference table ref references distributed loc",
        "tally_name_fkey: distributed tally references local table counter",
        "tally_key_id_fkey: tally and alone are not colocated",
        "tally_key_id_fkey: tally['key_id'] -> alone['key_id'] does not map location_id to key_id",
    }


def test_every_table_of_the_metadata_is_classified_once() -> None:
    """The same check as the catalog's, without a database (so SQLite-only runs see a new
    table left out): every table of store.schema, and Alembic's, in exactly one class."""
    classified = Counter(
        [
            *distribution.REFERENCE,
            *(t.name for t in distribution.DISTRIBUTED),
            *distribution.LOCAL,
        ]
    )
    assert classified == Counter([*metadata.tables, "alembic_version"])
    for table in distribution.DISTRIBUTED:
        primary = [c.name for c in metadata.tables[table.name].primary_key.columns]
        assert table.column in primary, (table.name, primary)


def test_the_citus_statements_follow_the_classification() -> None:
    statements = distribution.citus_statements()
    reference = [f"SELECT create_reference_table('{t}');" for t in distribution.REFERENCE]
    assert statements[: len(reference)] == reference
    assert statements[len(reference)] == "SELECT create_distributed_table('locations', 'id');"
    assert (
        "SELECT create_distributed_table('channels', 'location_id', colocate_with => 'locations');"
    ) in statements
    assert statements[-1] == (
        "SELECT create_distributed_table('api_key_usage', 'key_id', colocate_with => 'none');"
    )
    assert len(statements) == len(set(statements))


def test_docs_show_the_rendered_citus_statements_verbatim() -> None:
    scaling = (REPO / "docs" / "scaling.md").read_text()
    assert "## Citus (distributed PostgreSQL)" in scaling
    assert distribution.citus_sql() in scaling, (
        "docs/scaling.md must show footfall.store.distribution.citus_sql() verbatim"
    )
