"""Dashboard sessions in the database, and the server key's check value.

- `dashboard_sessions`: random server-side session ids (stored as their sha256), so a
  sign-out or a new operator token ends a session at once.
- `server_key_check`: a fixed label sealed under the server key. It is written at the
  first start after this migration, when every sealed secret opens with the key (a
  database whose secrets do not open is refused instead): see services/key_check.py.

Both are small operator-level tables: reference tables on Citus (store.distribution).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("token_mac", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "server_key_check",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.Text, nullable=False),
    )
