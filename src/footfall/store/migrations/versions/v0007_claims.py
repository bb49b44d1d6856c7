"""Claims for background work shared by several processes, and where each histogram ends.

- `zone_progress.claimed_by` / `claimed_until`: the histogram job's lease on a trigger, so
  exactly one process computes it at a time (and a failing one backs off).
- `histograms.hour_end`: the instant the local hour ends, so the open-stays snapshot a row
  carries is used at the instant it was taken, whatever zone the location has since.
  Existing rows get hour_start + 1 h, which is exact for every zone but on the shift days
  of a 30-minute DST zone (Lord Howe).
- `webhook_deliveries.claim_token`: which attempt holds a delivery's lease; an attempt is
  recorded only by its holder.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("zone_progress") as table:
        table.add_column(sa.Column("claimed_by", sa.String(32), nullable=True))
        table.add_column(sa.Column("claimed_until", sa.BigInteger, nullable=True))
    op.add_column(
        "histograms",
        sa.Column("hour_end", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.execute("UPDATE histograms SET hour_end = hour_start + 3600000")
    op.add_column("webhook_deliveries", sa.Column("claim_token", sa.String(32), nullable=True))
