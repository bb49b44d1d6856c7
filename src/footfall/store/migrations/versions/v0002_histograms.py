"""Hourly zone histograms (filled by zone analytics; read by /histograms).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("INSERT INTO id_counters (name, value) VALUES ('histograms', 0)")
    else:
        op.execute("CREATE SEQUENCE histogram_ids AS BIGINT")
    op.create_table(
        "histograms",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("trigger_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("hour_start", sa.BigInteger, nullable=False),
        sa.Column("counting_data", sa.Text, nullable=False),
        sa.Column("lifetime_data", sa.Text, nullable=False),
        sa.Column("computed_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("location_id", "trigger_id", "hour_start", name="uq_histograms_hour"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_histograms_time", "histograms", ["location_id", "hour_start"])
