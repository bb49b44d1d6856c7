"""`footfall secrets rotate`: every sealed secret re-sealed under the primary key.

Invariant: the secrets change in one transaction, and at every instant some key that a
process can find opens every stored value. With a key file (SQLite without
FOOTFALL_SECRET_KEY) the new key is written to `<key file>.new` before the commit and
renamed over the key file after it; a rotation that crashed in between is finished by the
next one (or read by any process meanwhile: `store.secret_key` loads both files). With
FOOTFALL_SECRET_KEY the new key is the variable's first one and older ones follow it
(`NEW,OLD`), so servers given the list keep working before, during and after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Table, select, update

from footfall.domain.sealing import (
    API_KEY_SECRET,
    KEY_CHECK,
    PREFIX,
    WEBHOOK_SECRET,
    Keyring,
    key_id,
    new_key_text,
    parse_key,
)
from footfall.store.db import Database
from footfall.store.schema import api_keys, server_key_check, webhook_endpoints
from footfall.store.secret_key import pending_file, write_key_file

__all__ = ["SEALED_COLUMNS", "Rotation", "rotate_secrets"]

# Every sealed column: its table (the column is `secret`) and its sealing purpose.
SEALED_COLUMNS: tuple[tuple[Table, str], ...] = (
    (api_keys, API_KEY_SECRET),
    (webhook_endpoints, WEBHOOK_SECRET),
    (server_key_check, KEY_CHECK),  # the key check value (services.key_check)
)


@dataclass(frozen=True)
class Rotation:
    key_id: str  # the key every secret is sealed under now
    api_keys: int
    webhook_secrets: int
    key_source: str  # the key file's path, or FOOTFALL_SECRET_KEY


def _finish_interrupted(db: Database) -> None:
    """A `.new` key file left by a crash: keep it if any value uses it, else drop it."""
    key_file = db.key_file
    assert key_file is not None
    pending = pending_file(key_file)
    if not pending.exists():
        return
    pending_id = key_id(parse_key(pending.read_text()))
    with db.read() as conn:
        used = any(
            str(value).startswith(f"{PREFIX}{pending_id}.")
            for table, _ in SEALED_COLUMNS
            for value in conn.execute(select(table.c.secret)).scalars()
        )
    if used:
        os.replace(pending, key_file)
    else:
        pending.unlink()


def rotate_secrets(db: Database) -> Rotation:
    opener = db.load_keyring()
    if db.uses_key_variable:
        sealer, source, new_text = opener, "FOOTFALL_SECRET_KEY", None
    else:
        _finish_interrupted(db)
        opener = db.load_keyring()
        key_file = db.key_file
        assert key_file is not None
        new_text = new_key_text()
        sealer, source = Keyring(parse_key(new_text)), str(key_file)
        write_key_file(pending_file(key_file), new_text, exclusive=False)
    counts = []
    with db.write() as conn:
        for table, purpose in SEALED_COLUMNS:
            # Each row by its whole primary key ((location_id, id) for an endpoint): on
            # Citus every update then goes to one shard.
            key = list(table.primary_key.columns)
            rows = conn.execute(select(*key, table.c.secret)).all()
            for *key_values, value in rows:
                plaintext = opener.unseal(value, purpose)
                conn.execute(
                    update(table)
                    .where(*(column == v for column, v in zip(key, key_values, strict=True)))
                    .values(secret=sealer.seal(plaintext, purpose))
                )
            counts.append(len(rows))
    if new_text is not None:
        key_file = db.key_file
        assert key_file is not None
        os.replace(pending_file(key_file), key_file)
    db.reload_keyring()
    return Rotation(sealer.primary_id, counts[0], counts[1], source)
