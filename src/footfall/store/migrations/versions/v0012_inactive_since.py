"""When each channel and trigger stopped being declared, so undeclared ones can be purged
once the retention period has passed since (docs/operations.md, Limits).

`inactive_since` is NULL while a channel or trigger is declared. Rows already inactive at
the upgrade count from the upgrade: nothing is purged sooner than it could have been.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    now = int(time.time() * 1000)
    for table in ("channels", "triggers"):
        op.add_column(table, sa.Column("inactive_since", sa.BigInteger, nullable=True))
        op.execute(
            sa.text(f"UPDATE {table} SET inactive_since = :now WHERE active = 0").bindparams(
                now=now
            )
        )
