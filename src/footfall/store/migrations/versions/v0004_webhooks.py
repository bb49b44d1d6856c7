"""Webhooks: endpoints, the delivery outbox, the attempt log, coalescing state.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO id_counters (name, value) VALUES ('deliveries', 0)")
    else:
        op.execute("CREATE SEQUENCE delivery_ids AS BIGINT")
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("enabled", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_webhook_endpoints_location_id", "webhook_endpoints", ["location_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("endpoint_id", sa.Integer, nullable=False),
        sa.Column("webhook_id", sa.String(40), nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retry_base", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("delivered_at", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index(
        "ix_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "status", "next_attempt_at"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("delivery_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "webhook_metric_state",
        sa.Column("endpoint_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("metric_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
    )
