"""Coverage, revisions and drift.

- `coverage_quarters`: per channel and UTC quarter-hour, the heartbeat marks that fall in
  it (text, `domain.coverage`) and the seconds of the quarter it was covered.
- `revisions`: per trigger, kind (`totals` | `histogram`) and local hour, when the hour was
  last revised after being complete, and whether a `revisions` webhook still has to say so.
- `occupancy_audit`: calibrations, max-idle changes and idle resets of occupancy
  counters, with who and when; `occupancy_counters.max_idle_ms` the idle limit.
- `feeds.coverage`: the feed reports coverage and puts `null` where nothing was covered.

Every new table carries `location_id` first in its primary key (Citus distribution by
location); none is unique on a global value.

Revision ID: 0011
Revises: 0010 (re-chained after 0010 at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "coverage_quarters",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("quarter", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("covered_s", sa.Integer, nullable=False),
        sa.Column("marks", sa.Text, nullable=False, server_default=""),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "revisions",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("trigger_id", sa.String(64), primary_key=True),
        sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hour_end", sa.BigInteger, nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("revised_at", sa.BigInteger, nullable=False),
        sa.Column("pending_since", sa.BigInteger, nullable=True),
        sa.Column("notified_at", sa.BigInteger, nullable=True),
        sa.Column("retry_at", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_revisions_pending", "revisions", ["pending_since"])
    op.create_index("ix_revisions_revised", "revisions", ["location_id", "kind", "revised_at"])
    op.create_table(
        "occupancy_audit",
        sa.Column("location_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("counter_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("value_before", sa.Integer, nullable=True),
        sa.Column("value_after", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("withdrawn_at", sa.BigInteger, nullable=True),
        sqlite_with_rowid=False,
    )
    op.add_column("occupancy_counters", sa.Column("max_idle_ms", sa.BigInteger, nullable=True))
    op.add_column("feeds", sa.Column("coverage", sa.Integer, nullable=False, server_default="0"))
