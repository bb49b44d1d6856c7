"""`footfall keys reset-nonce PUBLIC_KEY`: clear a key's last nonce (docs/api.md, Nonces).

For a client refused with code 3 for good, typically after another client sent nonces of
a larger scale (microseconds) on the same key. Recorded in the key's audit trail with
who (`--by`, default the login name) and when; `--audit` lists that trail instead.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from footfall.cli.common import DbOption, JsonOption, open_db
from footfall.cli.output import emit, emit_table, reporting_errors
from footfall.domain.times import format_utc
from footfall.services import key_nonces

__all__ = ["reset_nonce_command"]


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unknown uid)
        return "cli"


def reset_nonce_command(
    public_key: Annotated[str, typer.Argument(help="The public key whose nonce to clear.")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who did it, for the audit trail (default: your login name)."),
    ] = None,
    audit: Annotated[
        bool, typer.Option("--audit", help="List the key's audit trail instead, newest first.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Clear a key's last nonce: its next request may carry any nonce from 1 (recorded
    with who and when). Better still: give each client its own key."""
    with reporting_errors(), open_db(db) as database:
        if audit:
            rows = [
                {
                    "at": format_utc(r.at),
                    "kind": r.kind,
                    "by": r.actor,
                    "nonce_before": r.nonce_before,
                }
                for r in key_nonces.key_audit(database, public_key)
            ]
            emit_table("audit", rows, as_json=as_json, empty="Nothing recorded for this key.")
            return
        done = key_nonces.reset_nonce(database, public_key, by=by or _login())
        emit(
            {
                "public_key": done.public_key,
                "nonce_before": done.nonce_before,
                "at": format_utc(done.at),
                "by": done.by,
            },
            as_json=as_json,
            title="Nonce cleared: the key's next request may carry any nonce from 1",
        )
