"""A per-location webhooks version, so ingest can cache endpoints exactly.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column(
        "locations",
        sa.Column("webhooks_version", sa.Integer, nullable=False, server_default="0"),
    )
