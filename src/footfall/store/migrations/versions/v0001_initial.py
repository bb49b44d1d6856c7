"""Initial schema: accounts, keys, locations, channels, triggers, events, hourly rollups.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False, unique=True),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.Column("last_nonce", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("next_request_us", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("ingest_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.Text, nullable=False, server_default=""),
        sa.Column("config_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_seen_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_locations_account_id", "locations", ["account_id"])
    op.create_table(
        "channels",
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("paid", sa.Integer, nullable=False),
        sa.Column("active", sa.Integer, nullable=False),
    )
    op.create_table(
        "triggers",
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("active", sa.Integer, nullable=False),
    )
    if not sqlite:
        op.execute("CREATE SEQUENCE event_ids AS BIGINT")
    op.create_table(
        "events",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(
            "id",
            sa.BigInteger,
            primary_key=True,
            autoincrement=False,
            server_default=None if sqlite else sa.text("nextval('event_ids')"),
        ),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(24), nullable=False),
        sa.Column("trigger_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("object_id", sa.BigInteger, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("suborigin", sa.String(16), nullable=False),
        sa.Column("age_range", sa.String(16), nullable=False),
        sa.Column("gender", sa.String(8), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("location_id", "record_id", name="uq_events_record"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_events_time", "events", ["location_id", "event_time"])
    op.create_table(
        "hourly_rollups",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("trigger_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(24), primary_key=True),
        sa.Column("origin", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "id_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO id_counters (name, value) VALUES ('events', 0)")
