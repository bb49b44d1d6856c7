"""The start-up check that the server key is the database's key (docs/security.md).

Invariant: a process that serves requests or delivers webhooks holds a key that opens the
database's key check value, so a wrong key (a restored backup, a mistyped
FOOTFALL_SECRET_KEY) stops it at start with one line saying what to do, never a ready
server answering 500 to every signed read. A database without a check value (made before
the check existed, or never started) gets one at its first start, but only when every
sealed secret opens with the key; otherwise the start is refused the same way.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from footfall.domain.sealing import KEY_CHECK, PREFIX, SealError
from footfall.services.key_rotation import SEALED_COLUMNS
from footfall.store import key_check
from footfall.store.db import Database
from footfall.store.secret_key import ENV, SecretKeyError

__all__ = ["LABEL", "WrongKey", "verify_server_key"]

LABEL: Final = "footfall server key check"


class WrongKey(SecretKeyError):
    """The server key does not open the database's secrets; the message says what to do."""


def _key_source(db: Database) -> str:
    return ENV if db.uses_key_variable else f"the key file {db.key_file}"


def _refusal(db: Database, sealed_under: str) -> WrongKey:
    return WrongKey(
        f"the server key ({_key_source(db)}, key id {db.keyring.primary_id}) is not the key "
        f"this database's secrets are sealed with (key id {sealed_under}): start with the "
        f"database's own key (list an old key after the new one in {ENV} while rotating); "
        "nothing was started"
    )


def _key_id_of(sealed: str) -> str:
    return sealed[len(PREFIX) :].partition(".")[0] if sealed.startswith(PREFIX) else "unknown"


def _first_unopenable(db: Database) -> str | None:
    """The sealed value of the first secret this key cannot open, or None."""
    with db.read() as conn:
        for table, purpose in SEALED_COLUMNS:
            if purpose == KEY_CHECK:
                continue
            for value in conn.execute(select(table.c.secret)).scalars():
                try:
                    db.unseal(str(value), purpose)
                except SealError:
                    return str(value)
    return None


def verify_server_key(db: Database) -> None:
    """Raise SecretKeyError (WrongKey for a key that is not the database's) or return."""
    db.require_key()
    with db.read() as conn:
        if not key_check.has_check_table(conn):
            return  # an outdated schema: the schema check refuses to start, saying so
        stored = key_check.read_check(conn)
    if stored is None:
        unopenable = _first_unopenable(db)
        if unopenable is not None:
            raise _refusal(db, _key_id_of(unopenable))
        with db.write() as conn:
            key_check.write_check(conn, db.keyring.seal(LABEL, KEY_CHECK))
            stored = key_check.read_check(conn)
        assert stored is not None
    try:
        opened = db.unseal(stored, KEY_CHECK)
    except SealError:
        raise _refusal(db, _key_id_of(stored)) from None
    if opened != LABEL:
        raise _refusal(db, _key_id_of(stored))
