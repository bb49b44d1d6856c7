"""Report feeds: quarter-hour rollups, per-quarter zone statistics, the feeds.

Quarter rollups of events already stored are rebuilt from the raw events still kept.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "quarter_rollups",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("quarter", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("trigger_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(24), primary_key=True),
        sa.Column("origin", sa.String(16), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO quarter_rollups (location_id, quarter, channel_id, trigger_id, "
        "event_type, origin, count) SELECT location_id, event_time - (event_time % 900000), "
        "channel_id, trigger_id, event_type, origin, COUNT(*) FROM events GROUP BY "
        "location_id, event_time - (event_time % 900000), channel_id, trigger_id, event_type, "
        "origin"
    )
    op.create_table(
        "zone_quarters",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("trigger_id", sa.String(64), primary_key=True),
        sa.Column("quarter", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("peak", sa.Integer, nullable=False),
        sa.Column("area_ms", sa.BigInteger, nullable=False),
        sa.Column("stays", sa.Integer, nullable=False),
        sa.Column("stay_ms", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    # Existing histograms have no quarter statistics yet: recompute them all.
    op.execute("UPDATE zone_progress SET computed_until = NULL")
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
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
    op.create_index("ix_feeds_location_id", "feeds", ["location_id"])
