"""Clearing an API key's last nonce (docs/api.md, Nonces), recorded with who and when.

The read API accepts a nonce only if it is greater than the last one accepted for the
key. A client that switches scale (microseconds, then seconds) is refused for good; an
operator clears the key's last nonce instead of issuing a new key. Invariant: every reset
is in the key's audit trail (`api_key_audit`) with the actor, the instant and the nonce
it cleared, written in the same transaction as the reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from footfall.domain.times import now_ms
from footfall.services.errors import NotFoundError, ServiceError
from footfall.store import accounts as account_store
from footfall.store.accounts import KeyAuditRow
from footfall.store.db import Database

__all__ = ["NonceReset", "key_audit", "reset_nonce"]


@dataclass(frozen=True)
class NonceReset:
    public_key: str
    nonce_before: int
    at: int  # epoch ms
    by: str


def _key_id(db: Database, public_key: str) -> int:
    with db.read() as conn:
        key = account_store.find_key(conn, public_key)
    if key is None:
        raise NotFoundError(
            f"no API key {public_key!r}: see `footfall keys list` for the existing ones"
        )
    return key.id


def _actor(by: str) -> str:
    who = by.strip()
    if not who or len(who) > 100 or not who.isprintable():
        raise ServiceError(f"--by {by!r}: expected who did it, 1 to 100 printable characters")
    return who


def reset_nonce(
    db: Database, public_key: str, *, by: str, clock: Callable[[], int] = now_ms
) -> NonceReset:
    """Clear the key's last nonce: its next request may carry any nonce from 1."""
    actor = _actor(by)
    key_id = _key_id(db, public_key)
    at = clock()
    with db.write() as conn:
        before = account_store.reset_nonce(conn, key_id, actor=actor, now=at)
    return NonceReset(public_key, before, at, actor)


def key_audit(db: Database, public_key: str) -> list[KeyAuditRow]:
    """The key's audit trail, newest first."""
    key_id = _key_id(db, public_key)
    with db.read() as conn:
        return account_store.key_audit(conn, key_id)
