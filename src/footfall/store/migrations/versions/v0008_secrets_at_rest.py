"""Secrets at rest: API and webhook secrets sealed with the server key; feed tokens hashed.

Existing plaintext values are converted here, in the migration's transaction, so no
database that has run it holds a secret in clear: API and webhook secrets are sealed
(AES-GCM, `domain.sealing`) with the key `footfall.store.migrate` hands in (needed only
when there is something to seal), and feed tokens are replaced by their SHA-256 and their
first 8 characters (what `footfall feeds list` shows). Their URLs keep working. When any
value was converted, `store.migrate.scrub` then rewrites the storage (SQLite VACUUM and a
WAL checkpoint, PostgreSQL VACUUM FULL of the three tables) so the old plaintext is gone
from free pages and dead row versions too.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from footfall.domain.sealing import API_KEY_SECRET, WEBHOOK_SECRET, Keyring, is_sealed

revision = "0008"
down_revision = "0007"


def _seal_column(table: str, purpose: str, keyring: Callable[[], Keyring]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, secret FROM {table}")).all()
    for row_id, secret in rows:
        if not is_sealed(secret):
            context.config.attributes["scrub"] = True  # old plaintext pages: rewrite them
            bind.execute(
                sa.text(f"UPDATE {table} SET secret = :sealed WHERE id = :id"),
                {"sealed": keyring().seal(secret, purpose), "id": row_id},
            )


def upgrade() -> None:
    keyring: Callable[[], Keyring] = context.config.attributes["keyring"]
    _seal_column("api_keys", API_KEY_SECRET, keyring)
    _seal_column("webhook_endpoints", WEBHOOK_SECRET, keyring)

    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("token_prefix", sa.String(8), nullable=False, server_default=""))
    bind = op.get_bind()
    for row_id, token in bind.execute(sa.text("SELECT id, token FROM feeds")).all():
        context.config.attributes["scrub"] = True
        bind.execute(
            sa.text("UPDATE feeds SET token_hash = :hash, token_prefix = :prefix WHERE id = :id"),
            {"hash": hashlib.sha256(token.encode()).hexdigest(), "prefix": token[:8], "id": row_id},
        )
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("token")
        batch.alter_column("token_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_feeds_token_hash", ["token_hash"])
