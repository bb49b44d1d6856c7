"""Secrets at rest: AES-256-GCM under a server key (pure; the key comes from the caller).

Invariant: a sealed value is `fse1.<key id>.<base64url(nonce | ciphertext | tag)>`, with a
fresh 96-bit random nonce per seal and the column it belongs to as associated data, so a
value cannot be moved to another column and still open. The key id is a fingerprint of
the key (not secret), so a value names the key it needs: a keyring opens any value sealed
under one of its keys and seals only under its first (primary) key, which is how
`footfall secrets rotate` moves every value to a new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "API_KEY_SECRET",
    "KEY_CHECK",
    "PREFIX",
    "WEBHOOK_SECRET",
    "Keyring",
    "SealError",
    "UnknownKey",
    "is_sealed",
    "key_id",
    "new_key_text",
    "parse_key",
]

PREFIX: Final = "fse1."
API_KEY_SECRET: Final = "api_keys.secret"
WEBHOOK_SECRET: Final = "webhook_endpoints.secret"
KEY_CHECK: Final = "server_key_check.secret"
_CACHE_SIZE: Final = 4096


class SealError(ValueError):
    """A sealed value cannot be opened (wrong key, or altered)."""


class UnknownKey(SealError):
    """The value was sealed under a key this keyring does not hold."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"footfall key id:" + key).hexdigest()[:8]


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_key(text: str) -> bytes:
    """A 32-byte key from 64 hex digits or base64 (standard or URL-safe, padding optional)."""
    cleaned = text.strip()
    if len(cleaned) == 64:
        try:
            return bytes.fromhex(cleaned)
        except ValueError:
            pass
    try:
        key = base64.urlsafe_b64decode(
            cleaned.replace("+", "-").replace("/", "_") + "=" * (-len(cleaned) % 4)
        )
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ValueError(
            "expected 32 random bytes as base64 (44 characters) or hex (64); make one with "
            "`python3 -c 'import secrets, base64; "
            "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`"
        )
    return key


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Keyring:
    """Seal under the primary key; open under any key held (with a small cache, because
    the read API opens its key's secret on every request)."""

    def __init__(self, primary: bytes, others: Sequence[bytes] = ()) -> None:
        self.primary_id = key_id(primary)
        self._primary = AESGCM(primary)
        self._keys = {key_id(k): AESGCM(k) for k in (*others, primary)}
        self._cache: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._primary.encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{PREFIX}{self.primary_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def unseal(self, value: str, purpose: str) -> str:
        cached = self._cache.get((value, purpose))
        if cached is not None:
            return cached
        if not is_sealed(value):
            raise SealError("the stored secret is not sealed: run `footfall init` to migrate")
        kid, _, data = value[len(PREFIX) :].partition(".")
        aead = self._keys.get(kid)
        if aead is None:
            raise UnknownKey(
                f"this secret is sealed under key {kid}, and the server's key is "
                f"{self.primary_id}: FOOTFALL_SECRET_KEY (or the key file) changed"
            )
        try:
            raw = base64.urlsafe_b64decode(data)
            plaintext = aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError(f"a secret sealed under key {kid} does not open: altered?") from None
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[(value, purpose)] = plaintext
        return plaintext
