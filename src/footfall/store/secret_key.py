"""Where the server key that seals secrets at rest comes from (see `domain.sealing`).

- `FOOTFALL_SECRET_KEY`: one key, or a comma-separated list whose first is the primary
  (seals) and the rest still open older values (for a rotation without downtime). Required
  on PostgreSQL: the database and its dumps must never hold what opens them.
- Otherwise, on SQLite: a key file beside the database (`footfall.db` → `footfall.db.key`),
  created with mode 0600 by `footfall init`. A rotation writes the new key to
  `<key file>.new` before it commits and renames it over the key file after; a process
  that finds a `.new` file holds both keys, so a crash between the two steps loses nothing.
  A key file that its group or others may read or write is refused (docs/security.md):
  whoever reads it opens every API and webhook secret, as with an SSH private key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from footfall.domain.sealing import Keyring, new_key_text, parse_key

__all__ = [
    "ENV",
    "SecretKeyError",
    "create_key_file",
    "key_file_for",
    "keyring_from",
    "pending_file",
    "write_key_file",
]

ENV: Final = "FOOTFALL_SECRET_KEY"


class SecretKeyError(ValueError):
    """No usable key: the message says how to provide one."""


def key_file_for(sqlite_path: str | None) -> Path | None:
    return None if not sqlite_path else Path(sqlite_path).with_name(Path(sqlite_path).name + ".key")


def pending_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".new")


def write_key_file(path: Path, key_text: str, *, exclusive: bool) -> bool:
    """Write a key readable by its owner only; False if `exclusive` and it exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(key_text + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)
    return True


def create_key_file(path: Path) -> bool:
    """A new random key at `path` (mode 0600) unless one is there; True if created."""
    return write_key_file(path, new_key_text(), exclusive=True)


def _check_mode(path: Path) -> None:
    if os.name != "posix":
        return  # no POSIX modes to check (Windows ACLs are the operator's)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SecretKeyError(
            f"{path} may be read by its group or others (mode {mode:04o}): it opens every "
            f"API and webhook secret; run `chmod 600 {path}` and start again"
        )


def _read_key(path: Path) -> bytes:
    _check_mode(path)
    try:
        return parse_key(path.read_text())
    except ValueError as exc:
        raise SecretKeyError(f"{path}: not a Footfall key ({exc})") from None


def keyring_from(env_value: str | None, key_file: Path | None) -> Keyring:
    if env_value and env_value.strip():
        try:
            keys = [parse_key(part) for part in env_value.split(",") if part.strip()]
        except ValueError as exc:
            raise SecretKeyError(f"{ENV}: {exc}") from None
        return Keyring(keys[0], keys[1:])
    if key_file is None:
        raise SecretKeyError(
            f"{ENV} is not set: a PostgreSQL deployment must set it (the key that seals API "
            "and webhook secrets must not live in the database); make one with `python3 -c "
            "'import secrets, base64; print(base64.urlsafe_b64encode(secrets.token_bytes(32))"
            ".decode())'`"
        )
    if not key_file.exists():
        raise SecretKeyError(
            f"no secret key: {key_file} does not exist; run `footfall init` to create it "
            f"(or set {ENV})"
        )
    pending = pending_file(key_file)
    others = [_read_key(pending)] if pending.exists() else []
    return Keyring(_read_key(key_file), others)
