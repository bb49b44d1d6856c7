"""The webhooks page: endpoints, the delivery log, and replaying a delivery.

Invariant: a delivery id is checked by the API's rules (web.values) before it is used.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from footfall.services import webhooks
from footfall.services.errors import ServiceError
from footfall.web.gate import back, bad_value, checked_form, database, require_session
from footfall.web.render import render
from footfall.web.values import ValueRefused, form_id

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/webhooks")
async def webhooks_page(request: Request) -> Response:
    await require_session(request)
    db = database(request)
    endpoints = await run_in_threadpool(webhooks.list_endpoints, db)
    log = await run_in_threadpool(lambda: webhooks.list_deliveries(db, limit=100))
    return await render(request, "webhooks.html", "webhooks", endpoints=endpoints, deliveries=log)


@router.post("/webhooks/replay")
async def replay(request: Request) -> Response:
    form = await checked_form(request)
    try:
        delivery = form_id(form, "delivery_id")
    except ValueRefused as exc:
        raise bad_value(exc) from None
    try:
        await run_in_threadpool(webhooks.replay, database(request), delivery)
    except ServiceError as exc:
        return back("/webhooks", f"Not replayed: {exc}")
    return back("/webhooks", f"Delivery {delivery} queued again.")
