"""Accounts, API keys and locations: what an operator creates from the command line.

Secrets come from `secrets` (a CSPRNG). The API key secret is sealed with the server key
(`domain.sealing`): the server must recompute request signatures, but the database alone
(a file copy, a dump) does not give it away. The ingest token is stored only as its
SHA-256, so a database leak does not let anyone push events.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from footfall.domain.sealing import API_KEY_SECRET
from footfall.domain.times import now_ms, zone_name_problem
from footfall.services.errors import NotFoundError, ServiceError
from footfall.store import accounts as account_store
from footfall.store import locations as location_store
from footfall.store.accounts import AccountRow, ApiKeyRow
from footfall.store.db import Database
from footfall.store.locations import LocationRow

__all__ = [
    "IssuedKey",
    "IssuedLocation",
    "create_account",
    "create_key",
    "create_location",
    "hash_token",
    "list_accounts",
    "list_keys",
    "list_locations",
    "revoke_key",
]


@dataclass(frozen=True)
class IssuedKey:
    public_key: str
    secret: str
    account_id: int


@dataclass(frozen=True)
class IssuedLocation:
    location: LocationRow
    ingest_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_account(db: Database, account_id: int) -> None:
    with db.read() as conn:
        if account_store.get_account(conn, account_id) is None:
            raise NotFoundError(
                f"no account {account_id}: see `footfall accounts list` for the existing ones"
            )


def _clean_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 200 or not cleaned.isprintable():
        raise ServiceError(f"{what} name {name!r}: expected 1 to 200 printable characters")
    return cleaned


def create_account(db: Database, name: str) -> AccountRow:
    with db.write() as conn:
        return account_store.insert_account(conn, name=_clean_name(name, "account"), now=now_ms())


def list_accounts(db: Database) -> list[AccountRow]:
    with db.read() as conn:
        return account_store.list_accounts(conn)


def create_key(db: Database, account_id: int) -> IssuedKey:
    _require_account(db, account_id)
    public_key = secrets.token_hex(16)
    secret = secrets.token_urlsafe(32)
    sealed = db.keyring.seal(secret, API_KEY_SECRET)
    with db.write() as conn:
        account_store.insert_key(
            conn, account_id=account_id, public_key=public_key, secret=sealed, now=now_ms()
        )
    return IssuedKey(public_key, secret, account_id)


def list_keys(db: Database, account_id: int | None = None) -> list[ApiKeyRow]:
    with db.read() as conn:
        return account_store.list_keys(conn, account_id=account_id)


def revoke_key(db: Database, public_key: str) -> None:
    with db.write() as conn:
        if not account_store.revoke_key(conn, public_key=public_key, now=now_ms()):
            raise NotFoundError(
                f"no API key {public_key!r}: see `footfall keys list` for the existing ones"
            )


def create_location(
    db: Database, *, account_id: int, name: str, timezone: str = "UTC"
) -> IssuedLocation:
    if (problem := zone_name_problem(timezone)) is not None:
        raise ServiceError(f"--timezone: {problem}")
    _require_account(db, account_id)
    token = "ffi_" + secrets.token_urlsafe(32)
    with db.write() as conn:
        location = location_store.insert_location(
            conn,
            account_id=account_id,
            name=_clean_name(name, "location"),
            timezone=timezone,
            hash_=secrets.token_urlsafe(32),
            token_hash=hash_token(token),
            now=now_ms(),
        )
    return IssuedLocation(location, token)


def list_locations(db: Database, account_id: int | None = None) -> list[LocationRow]:
    with db.read() as conn:
        return location_store.list_locations(conn, account_id=account_id)
