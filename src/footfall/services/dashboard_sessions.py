"""Dashboard sessions: random server-side ids, bound to the operator token.

Invariant: a session cookie is a fresh 256-bit random id; the database keeps only its
sha256, with an HMAC of that hash under the operator token it was opened with. A cookie
opens the dashboard while its row exists, has not expired (12 hours) and its binding
matches the current FOOTFALL_ADMIN_TOKEN: signing out deletes the row, and a new token
ends every session at once. Two sign-ins always get two sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from footfall.store import sessions
from footfall.store.db import Database

__all__ = ["SESSION_SECONDS", "close_session", "open_session", "session_valid"]

SESSION_SECONDS: Final = 12 * 3600
_MAX_COOKIE: Final = 128  # a real cookie is 43 characters; longer is not ours


def _id_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _binding(admin_token: str, id_hash: str) -> str:
    return hmac.new(admin_token.encode(), f"session:{id_hash}".encode(), "sha256").hexdigest()


def open_session(db: Database, admin_token: str, now_ms: int) -> str:
    """A new session; returns the cookie value (shown to the browser only)."""
    cookie = secrets.token_urlsafe(32)
    id_hash = _id_hash(cookie)
    with db.write() as conn:
        sessions.insert_session(
            conn,
            id_hash,
            _binding(admin_token, id_hash),
            created_at=now_ms,
            expires_at=now_ms + SESSION_SECONDS * 1000,
        )
    return cookie


def session_valid(db: Database, admin_token: str, cookie: str | None, now_ms: int) -> bool:
    if not cookie or len(cookie) > _MAX_COOKIE or not cookie.isascii():
        return False
    id_hash = _id_hash(cookie)
    with db.read() as conn:
        binding = sessions.find_session(conn, id_hash, now_ms)
    return binding is not None and hmac.compare_digest(binding, _binding(admin_token, id_hash))


def close_session(db: Database, cookie: str | None) -> None:
    if cookie and len(cookie) <= _MAX_COOKIE and cookie.isascii():
        with db.write() as conn:
            sessions.delete_session(conn, _id_hash(cookie))
