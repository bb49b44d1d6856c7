"""Where every table lives on Citus (distributed PostgreSQL, sharded by tenant): the one
list the Citus statements, `docs/scaling.md` and the schema test are all made from.

Invariant: every table of the migrated schema is in exactly one of three classes, and
`tests/integration/test_citus_rules.py` checks the PostgreSQL catalog against this list:

- **reference** tables are small and global (accounts, API keys and their audit, the
  token lookup). Citus
  copies them to every node and writes them with a two-phase commit, so none is written
  per request, and none has a foreign key to a distributed table (Citus refuses one).
- **distributed** tables are sharded by one column. `locations` by its `id`, every tenant
  table by `location_id`, all colocated with `locations`: a location's rows of every table
  sit on the same shard, so anything that names one location is a single-shard query.
  A distributed table's primary key, unique constraints and unique indexes include its
  distribution column (Citus enforces uniqueness within a shard only), and a foreign key
  between two distributed tables maps distribution column to distribution column.
  `api_key_usage` (the per-request nonce and throttle state) is distributed by its key,
  in its own colocation group: it has nothing to do with locations.
- **local** tables stay plain tables on the coordinator (Alembic's bookkeeping, and the
  SQLite stand-in for sequences, which PostgreSQL never reads or writes).

Partitions of a partitioned table are not listed: Citus distributes them with their
parent.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DISTRIBUTED",
    "LOCAL",
    "REFERENCE",
    "TENANT_COLUMN",
    "DistributedTable",
    "citus_sql",
    "citus_statements",
    "colocation_group",
]

TENANT_COLUMN = "location_id"

# In the order Citus accepts them: a reference table after the reference tables it
# points to (api_keys -> accounts).
REFERENCE: tuple[str, ...] = (
    "accounts",
    "api_keys",
    "api_key_audit",
    "token_lookup",
    "dashboard_sessions",
    "server_key_check",
)


@dataclass(frozen=True)
class DistributedTable:
    name: str
    column: str
    # Another table's name (share its shards), "none" (a colocation group of its own) or
    # "default" (Citus's default group for the column's type: `locations` starts it).
    colocate_with: str


_TENANT_TABLES: tuple[str, ...] = (
    "channels",
    "triggers",
    "events",
    "hourly_rollups",
    "quarter_rollups",
    "histograms",
    "zone_progress",
    "zone_quarters",
    "occupancy_counters",
    "queues",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "webhook_metric_state",
    "feeds",
    "occupancy_audit",
    "coverage_quarters",
    "revisions",
)

# `locations` first: the tenant tables name it as the table to colocate with.
DISTRIBUTED: tuple[DistributedTable, ...] = (
    DistributedTable("locations", "id", "default"),
    *(DistributedTable(name, TENANT_COLUMN, "locations") for name in _TENANT_TABLES),
    DistributedTable("api_key_usage", "key_id", "none"),
)

# Table -> why it is not distributed.
LOCAL: dict[str, str] = {
    "alembic_version": "Alembic's record of the schema revision, read by `footfall init`",
    "id_counters": "SQLite's stand-in for sequences; PostgreSQL draws ids from sequences",
}


def colocation_group(table: DistributedTable) -> str:
    """The name of the group the table's shards are placed with (tables of one group
    may reference each other and join on their distribution columns)."""
    if table.colocate_with in ("none", "default"):  # only `locations` uses "default"
        return table.name
    return table.colocate_with


def citus_statements() -> list[str]:
    """What to run on the Citus coordinator once `footfall init` has made the schema:
    reference tables first, then `locations`, then the tables colocated with it."""
    statements = [f"SELECT create_reference_table('{name}');" for name in REFERENCE]
    for table in DISTRIBUTED:
        options = ""
        if table.colocate_with != "default":
            options = f", colocate_with => '{table.colocate_with}'"
        statements.append(
            f"SELECT create_distributed_table('{table.name}', '{table.column}'{options});"
        )
    return statements


def citus_sql() -> str:
    """The statements as one SQL script (what docs/scaling.md shows, verbatim)."""
    return "\n".join(citus_statements()) + "\n"
