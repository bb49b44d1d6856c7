"""The API keys' audit trail: who cleared a key's last nonce, and when.

`api_key_audit` is a reference table on Citus (small, global, written only by an
operator's action, never per request), beside `api_keys`, which it points to.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "api_key_audit",
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id"), primary_key=True),
        sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("nonce_before", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_key_audit")
