"""Zone analytics: histogram snapshots, per-trigger progress, occupancy counters, queues.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # Zone analytics and live metrics read one trigger's events over a time range.
    op.create_index("ix_events_trigger_time", "events", ["location_id", "trigger_id", "event_time"])
    # A plain ADD COLUMN (no batch copy), so SQLite keeps the table WITHOUT ROWID.
    op.add_column(
        "histograms", sa.Column("open_stays", sa.Text, nullable=False, server_default="{}")
    )
    op.create_table(
        "zone_progress",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("trigger_id", sa.String(64), primary_key=True),
        sa.Column("first_event_ms", sa.BigInteger, nullable=False),
        sa.Column("dirty_from", sa.BigInteger, nullable=True),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        sa.Column("computed_until", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "occupancy_counters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("enter_triggers", sa.Text, nullable=False),
        sa.Column("exit_triggers", sa.Text, nullable=False),
        sa.Column("zone_trigger", sa.String(64), nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("reset_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_occupancy_counters_location_id", "occupancy_counters", ["location_id"])
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("zone_trigger", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_queues_location_id", "queues", ["location_id"])
