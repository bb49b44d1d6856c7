"""Every table follows Citus's rules for distribution by location (`footfall.store.distribution`
says where each table goes).

- `occupancy_counters`, `queues`, `webhook_endpoints` and `feeds` are keyed by
  (location_id, id). Their ids keep their values and are drawn by `store.ids` from now on:
  on PostgreSQL from the column's old serial sequence, renamed and detached (so no id it
  handed out comes again), on SQLite from an `id_counters` row starting at the largest
  stored id (as the rowid did: those tables had no AUTOINCREMENT).
- Tokens are found through `token_lookup` (a small reference table): every location's
  ingest token hash and every feed's token hash move there, with the location (and feed)
  they open; `locations.ingest_token_hash` and `feeds.token_hash` go.
- Nonce and throttle state move from `api_keys` (a reference table, which must not be
  written per request) to `api_key_usage`, distributed by key, with the same values.
- `locations.hash` stops being unique on its own (see store.schema), and
  `webhook_deliveries.webhook_id` is unique per location.
- `webhook_metric_state` gains its endpoint's `location_id`, first in its key.

PostgreSQL changes the tables in place. SQLite cannot change keys or drop a unique
column in place: each such table is rebuilt (a new copy, the rows, the old one dropped,
the copy renamed), keeping WITHOUT ROWID where the table had it; `store.migrate` turns
foreign keys off meanwhile and checks them all before the commit.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

# table -> (its id_counters row on SQLite, its sequence on PostgreSQL): see store.ids.
_DRAWN_IDS: dict[str, tuple[str, str]] = {
    "occupancy_counters": ("counters", "counter_ids"),
    "queues": ("queues", "queue_ids"),
    "webhook_endpoints": ("endpoints", "endpoint_ids"),
    "feeds": ("feeds", "feed_ids"),
}


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "token_lookup",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("feed_id", sa.Integer, nullable=True),
    )
    op.execute(
        "INSERT INTO token_lookup (token_hash, kind, location_id, feed_id) "
        "SELECT ingest_token_hash, 'ingest', id, NULL FROM locations"
    )
    op.execute(
        "INSERT INTO token_lookup (token_hash, kind, location_id, feed_id) "
        "SELECT token_hash, 'feed', location_id, id FROM feeds"
    )
    op.create_table(
        "api_key_usage",
        sa.Column(
            "key_id",
            sa.Integer,
            sa.ForeignKey("api_keys.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("last_nonce", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("next_request_us", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.execute(
        "INSERT INTO api_key_usage (key_id, last_nonce, next_request_us) "
        "SELECT id, last_nonce, next_request_us FROM api_keys"
    )
    if bind.dialect.name == "sqlite":
        _sqlite()
    else:
        _postgresql()


# -- PostgreSQL: in place -----------------------------------------------------------------


def _unique_constraint(inspector: sa.Inspector, table: str, columns: list[str]) -> str:
    for constraint in inspector.get_unique_constraints(table):
        if constraint["column_names"] == columns and constraint["name"]:
            return constraint["name"]
    raise LookupError(f"no unique constraint on {table} {columns}")


def _primary_key(inspector: sa.Inspector, table: str) -> str:
    name = inspector.get_pk_constraint(table)["name"]
    if not name:
        raise LookupError(f"no primary key on {table}")
    return str(name)


def _postgresql() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    op.drop_column("api_keys", "last_nonce")
    op.drop_column("api_keys", "next_request_us")
    op.drop_constraint(_unique_constraint(inspector, "locations", ["hash"]), "locations")
    op.drop_column("locations", "ingest_token_hash")  # and its unique constraint
    op.drop_column("feeds", "token_hash")  # likewise
    for table, (_, sequence) in _DRAWN_IDS.items():
        serial = bind.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}
        ).scalar_one()
        # The serial's own sequence, kept with its position, becomes a plain one.
        op.execute(f"ALTER SEQUENCE {serial} OWNED BY NONE")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP DEFAULT")
        op.execute(f"ALTER SEQUENCE {serial} RENAME TO {sequence}")
        # Past every stored id, should a row have been written with an explicit id (a
        # restore) that the serial never handed out.
        op.execute(
            f"SELECT setval('{sequence}', top) FROM (SELECT MAX(id) AS top FROM {table}) t "
            f"WHERE top >= (SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END "
            f"FROM {sequence})"
        )
        op.drop_constraint(_primary_key(inspector, table), table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, ["location_id", "id"])
        # The key now starts with location_id: this index would only repeat it.
        op.drop_index(f"ix_{table}_location_id", table_name=table)
    op.drop_constraint(
        _unique_constraint(inspector, "webhook_deliveries", ["webhook_id"]), "webhook_deliveries"
    )
    op.create_unique_constraint(
        "uq_deliveries_webhook", "webhook_deliveries", ["location_id", "webhook_id"]
    )
    op.add_column("webhook_metric_state", sa.Column("location_id", sa.Integer, nullable=True))
    op.execute(
        "UPDATE webhook_metric_state s SET location_id = e.location_id "
        "FROM webhook_endpoints e WHERE e.id = s.endpoint_id"
    )
    # State of a deleted endpoint (none: deleting one deletes its state in the same
    # transaction) could not be placed on any shard; it would never be read again.
    op.execute("DELETE FROM webhook_metric_state WHERE location_id IS NULL")
    op.alter_column("webhook_metric_state", "location_id", nullable=False)
    op.drop_constraint(
        _primary_key(inspector, "webhook_metric_state"), "webhook_metric_state", type_="primary"
    )
    op.create_primary_key(
        "webhook_metric_state_pkey",
        "webhook_metric_state",
        ["location_id", "endpoint_id", "metric_id"],
    )


# -- SQLite: rebuilt ----------------------------------------------------------------------

# The new shapes, each under a temporary name (`_new_` + its name) so it can be built
# beside the old table. The tables they reference appear only as foreign-key targets.
_NEW = sa.MetaData()
for _target in ("accounts", "locations"):
    sa.Table(_target, _NEW, sa.Column("id", sa.Integer, primary_key=True))

_NEW_API_KEYS = sa.Table(
    "_new_api_keys",
    _NEW,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False, unique=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

_NEW_LOCATIONS = sa.Table(
    "_new_locations",
    _NEW,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("version", sa.Text, nullable=False, server_default=""),
    sa.Column("config_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("webhooks_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_seen_at", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)


def _keyed_by_location(name: str, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        f"_new_{name}",
        _NEW,
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("location_id", "id"),
    )


_NEW_COUNTERS = _keyed_by_location(
    "occupancy_counters",
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("enter_triggers", sa.Text, nullable=False),
    sa.Column("exit_triggers", sa.Text, nullable=False),
    sa.Column("zone_trigger", sa.String(64), nullable=True),
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.Column("reset_minute", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
_NEW_QUEUES = _keyed_by_location(
    "queues",
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("zone_trigger", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
_NEW_ENDPOINTS = _keyed_by_location(
    "webhook_endpoints",
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("channel_id", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("enabled", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
_NEW_FEEDS = _keyed_by_location(
    "feeds",
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("token_prefix", sa.String(8), nullable=False, server_default=""),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("metric", sa.String(16), nullable=False),
    sa.Column("triggers", sa.Text, nullable=False),
    sa.Column("occupancy_ids", sa.Text, nullable=False),
    sa.Column("queue_ids", sa.Text, nullable=False),
    sa.Column("event_types", sa.Text, nullable=False),
    sa.Column("origins", sa.Text, nullable=False),
    sa.Column("period", sa.String(16), nullable=True),
    sa.Column("since_ms", sa.BigInteger, nullable=True),
    sa.Column("until_ms", sa.BigInteger, nullable=True),
    sa.Column("granularity", sa.String(8), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("revoked_at", sa.BigInteger, nullable=True),
)

_NEW_DELIVERIES = sa.Table(
    "_new_webhook_deliveries",
    _NEW,
    sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("endpoint_id", sa.Integer, nullable=False),
    sa.Column("webhook_id", sa.String(40), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("retry_base", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("claim_token", sa.String(32), nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("delivered_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("location_id", "webhook_id", name="uq_deliveries_webhook"),
    sqlite_with_rowid=False,
)

_NEW_METRIC_STATE = sa.Table(
    "_new_webhook_metric_state",
    _NEW,
    sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("endpoint_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("metric_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("sent_at", sa.BigInteger, nullable=False),
)


def _rebuild(
    new: sa.Table, rows: str | None = None, indexes: Sequence[tuple[str, list[str]]] = ()
) -> None:
    """Replace a table by `new`, copying `rows` (a SELECT of new's columns, in order;
    by default the same columns of the old table), then make its indexes."""
    bind = op.get_bind()
    name = new.name.removeprefix("_new_")
    columns = ", ".join(column.name for column in new.columns)
    new.create(bind)
    op.execute(f"INSERT INTO {new.name} ({columns}) {rows or f'SELECT {columns} FROM {name}'}")
    op.drop_table(name)  # its indexes go with it
    op.rename_table(new.name, name)
    for index, on in indexes:
        op.create_index(index, name, on)


def _sqlite() -> None:
    for table, (counter, _) in _DRAWN_IDS.items():
        # Ids go on from the largest one stored, as the rowid did; from now on none is reused.
        op.execute(
            f"INSERT INTO id_counters (name, value) SELECT '{counter}', COALESCE(MAX(id), 0) "
            f"FROM {table}"
        )
    _rebuild(_NEW_API_KEYS, indexes=[("ix_api_keys_account_id", ["account_id"])])
    _rebuild(_NEW_LOCATIONS, indexes=[("ix_locations_account_id", ["account_id"])])
    for new in (_NEW_COUNTERS, _NEW_QUEUES, _NEW_ENDPOINTS, _NEW_FEEDS):
        _rebuild(new)
    _rebuild(
        _NEW_DELIVERIES,
        indexes=[
            ("ix_deliveries_due", ["status", "next_attempt_at"]),
            ("ix_deliveries_endpoint", ["endpoint_id", "status", "next_attempt_at"]),
        ],
    )
    # State of a deleted endpoint (none: deleting one deletes its state in the same
    # transaction) has no location to go with; it would never be read again.
    _rebuild(
        _NEW_METRIC_STATE,
        rows=(
            "SELECT e.location_id, s.endpoint_id, s.metric_id, s.value, s.sent_at "
            "FROM webhook_metric_state s JOIN webhook_endpoints e ON e.id = s.endpoint_id"
        ),
    )
