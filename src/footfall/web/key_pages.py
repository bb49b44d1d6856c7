"""The API keys page: the keys, creating one (its secret shown once), revoking one,
clearing one's last nonce (recorded with who and when, docs/api.md, Nonces).

Invariant: an account id is checked by the API's rules (web.values) before it is used; a
new key's secret is rendered directly, never put in a URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from footfall.services import key_nonces, management
from footfall.services.errors import ServiceError
from footfall.web.gate import back, bad_value, checked_form, database, require_session
from footfall.web.render import render
from footfall.web.values import ValueRefused, form_id

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/keys")
async def keys_page(request: Request, created: Any = None) -> Response:
    await require_session(request)
    db = database(request)
    keys = await run_in_threadpool(management.list_keys, db)
    accounts = await run_in_threadpool(management.list_accounts, db)
    return await render(request, "keys.html", "keys", keys=keys, accounts=accounts, created=created)


@router.post("/keys/create")
async def create_key(request: Request) -> Response:
    form = await checked_form(request)
    try:
        account_id = form_id(form, "account_id")
    except ValueRefused as exc:
        raise bad_value(exc) from None
    try:
        issued = await run_in_threadpool(management.create_key, database(request), account_id)
    except ServiceError as exc:
        return back("/keys", f"Not created: {exc}")
    # Rendered directly (not redirected) so the secret is shown once and never lands in a URL.
    return await keys_page(request, created=issued)


@router.post("/keys/revoke")
async def revoke_key(request: Request) -> Response:
    form = await checked_form(request)
    try:
        await run_in_threadpool(
            management.revoke_key, database(request), form.get("public_key", "")
        )
    except ServiceError as exc:
        return back("/keys", f"Not revoked: {exc}")
    return back("/keys", f"Key {form.get('public_key')} revoked.")


@router.post("/keys/reset-nonce")
async def reset_key_nonce(request: Request) -> Response:
    """Clear a key's last nonce, recorded with who and when (docs/api.md, Nonces)."""
    form = await checked_form(request)
    key, by = form.get("public_key", ""), form.get("by", "")
    try:
        done = await run_in_threadpool(
            lambda: key_nonces.reset_nonce(database(request), key, by=by)
        )
    except ServiceError as exc:
        return back("/keys", f"Nonce not cleared: {exc}")
    return back("/keys", f"Key {key}: nonce {done.nonce_before} cleared by {done.by}.")
