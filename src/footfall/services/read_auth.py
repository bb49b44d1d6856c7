"""Who is calling the read API, and may they (docs/api.md, The read API).

Checks run in the order the specification fixes — key (code 1), signature (2), throttle
(6), nonce (3) — and the state they touch changes only as it allows: a request rejected
for its key, signature or throttle leaves both the throttle and its nonce untouched; one
rejected for its nonce has still taken its throttle slot. Throttle and nonce live in the
key's `api_key_usage` row (not in `api_keys`, which is read here and never written per
request) and move by compare-and-set UPDATEs, so they hold across every process sharing
the database.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from footfall.domain.read_params import parse_nonce
from footfall.domain.sealing import API_KEY_SECRET
from footfall.domain.signing import signature_matches
from footfall.store import accounts as account_store
from footfall.store.db import Database

__all__ = ["ApiCaller", "AuthFailure", "authenticate_request", "stale_nonce_message"]


@dataclass(frozen=True)
class ApiCaller:
    key_id: int
    account_id: int


class AuthFailure(Exception):
    def __init__(self, status: int, code: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def stale_nonce_message(nonce: int, last: int, public_key: str) -> str:
    """What a refused nonce says: the last one accepted, and the ways out (docs/api.md)."""
    scales = ((10**15, "microseconds"), (10**12, "milliseconds"), (10**9, "seconds"))
    scale = next((name for low, name in scales if last >= low), "")
    seen = f" (it looks like {scale} since the epoch)" if scale else ""
    return (
        f"nonce {nonce} is not greater than {last}, the last nonce accepted for this key"
        f"{seen}: send a greater one; if another client uses this key with another scale "
        "(seconds, milliseconds, microseconds), give each client its own key "
        f"(`footfall keys create`), or clear it with `footfall keys reset-nonce {public_key}`"
    )


def _now_us() -> int:
    return time.time_ns() // 1000


def authenticate_request(
    db: Database,
    *,
    public_key: str | None,
    signature: str | None,
    uri: str,
    nonce_text: str | None,
    rate_limit: float,
    clock_us: Callable[[], int] = _now_us,
) -> ApiCaller:
    if not public_key:
        raise AuthFailure(401, 1, "the X-Key header is missing: send your public API key")
    if not public_key.isprintable():
        raise AuthFailure(401, 1, "unknown or revoked API key in X-Key")
    with db.read() as conn:
        key = account_store.find_key(conn, public_key)
    if key is None or key.revoked:
        raise AuthFailure(401, 1, "unknown or revoked API key in X-Key")
    if not signature:
        raise AuthFailure(
            401, 2, "the X-Sign header is missing: send the HMAC-SHA512 of the request URI"
        )
    # The secret is sealed at rest; opened secrets are cached by the keyring (hot path).
    if not signature_matches(db.unseal(key.secret, API_KEY_SECRET), uri, signature):
        raise AuthFailure(
            401,
            2,
            "X-Sign does not match: sign the request URI exactly as sent (path, '?', and the "
            "percent-encoded query) with HMAC-SHA512 keyed by your secret, in lowercase hex",
        )
    nonce = parse_nonce(nonce_text)
    with db.write() as conn:
        if rate_limit > 0:
            wait_us = account_store.take_throttle_slot(
                conn, key.id, clock_us(), math.ceil(1_000_000 / rate_limit)
            )
            if wait_us:
                raise AuthFailure(
                    429,
                    6,
                    f"too many requests: at most {rate_limit:g} per second per key",
                    retry_after=max(1, math.ceil(wait_us / 1_000_000)),
                )
        accepted = nonce is not None and account_store.advance_nonce(conn, key.id, nonce)
    if nonce is None:
        raise AuthFailure(401, 3, "parameter 'nonce' is missing or not an integer from 1 to 2^63-1")
    if not accepted:
        with db.read() as conn:
            last = account_store.last_nonce(conn, key.id)
        raise AuthFailure(401, 3, stale_nonce_message(nonce, last, public_key))
    return ApiCaller(key.id, key.account_id)
