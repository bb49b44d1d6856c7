"""The webhook dispatcher (docs/api.md, Webhooks), running inside `footfall serve`.

One asyncio task per endpoint with due work, all sharing one httpx.AsyncClient: an
endpoint's deliveries go one at a time in order, so a dead or slow receiver only ever
delays its own. Each attempt is claimed first (a lease in the database, see
`store.webhooks.claim_next`), made with the timeout, then recorded with its outcome:
2xx delivered; 410 failed and the endpoint disabled; anything else retried on the
schedule (honouring Retry-After on 429/503) until it is exhausted.

Database calls run in threads; the event loop only waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import httpx
from starlette.concurrency import run_in_threadpool

from footfall import __version__, telemetry
from footfall.domain.sealing import WEBHOOK_SECRET
from footfall.domain.times import now_ms
from footfall.domain.webhooks import SCHEDULE, next_delay, sign
from footfall.services.safe_transport import WebhookTransport
from footfall.store import webhooks as store
from footfall.store.db import Database
from footfall.store.webhooks import Claimed

__all__ = ["Dispatcher"]

log = logging.getLogger("footfall.webhooks")

# How much longer than the attempt's deadline a claim lasts: room for recording the
# outcome (a write transaction) after the deadline has passed.
LEASE_MARGIN_S = 5.0


def _retry_after(answer: httpx.Response) -> float | None:
    raw = answer.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        *,
        timeout: float = 10.0,
        schedule: Sequence[float] = SCHEDULE,
        poll_interval: float = 0.2,
        clock: Callable[[], int] = now_ms,
        client: httpx.AsyncClient | None = None,
        allow_private: bool = False,
    ) -> None:
        self.db = db
        self.allow_private = allow_private  # FOOTFALL_WEBHOOK_ALLOW_PRIVATE (safe_transport)
        self.timeout = timeout
        self.schedule = tuple(schedule)
        self.poll_interval = poll_interval
        self.clock = clock
        self._client = client
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # The lease outlives the attempt's deadline, so a live dispatcher always records
        # its attempt before anyone else may claim the delivery again.
        self.lease_ms = int((timeout + LEASE_MARGIN_S) * 1000)

    def wake(self) -> None:
        """New deliveries were queued by this process: look now, not at the next poll.

        Safe to call from any thread (ingest commits in worker threads).
        """
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        client = self._client or httpx.AsyncClient(
            timeout=self.timeout,
            headers={"User-Agent": f"Footfall-Webhooks/{__version__}"},
            transport=WebhookTransport(allow_private=self.allow_private),
        )
        try:
            while True:
                try:
                    due = await run_in_threadpool(self._due_endpoints)
                except Exception:
                    log.exception("webhook dispatcher: cannot read the outbox; retrying")
                    due = []
                now = self.clock()
                for location_id, endpoint_id, when in due:
                    worker = self._workers.get(endpoint_id)
                    if when <= now and (worker is None or worker.done()):
                        self._workers[endpoint_id] = asyncio.create_task(
                            self._drain(client, location_id, endpoint_id),
                            name=f"webhook-{endpoint_id}",
                        )
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            workers = [w for w in self._workers.values() if not w.done()]
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if self._client is None:
                await client.aclose()

    def _due_endpoints(self) -> list[tuple[int, int, int]]:
        with self.db.read() as conn:
            return store.due_endpoints(conn, self.clock())

    def _claim(self, location_id: int, endpoint_id: int) -> Claimed | None:
        with self.db.write() as conn:
            claimed = store.claim_next(conn, location_id, endpoint_id, self.clock(), self.lease_ms)
        # The endpoint's secret is sealed at rest (domain.sealing): open it to sign.
        return claimed and replace(claimed, secret=self.db.unseal(claimed.secret, WEBHOOK_SECRET))

    async def _drain(self, client: httpx.AsyncClient, location_id: int, endpoint_id: int) -> None:
        try:
            while True:
                claimed = await run_in_threadpool(self._claim, location_id, endpoint_id)
                if claimed is None:
                    return
                await self.attempt(client, claimed)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database failed under us: the lease expires and the next poll retries.
            log.exception("webhook endpoint %s: delivery interrupted; retrying", endpoint_id)

    async def attempt(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        body = claimed.body.encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": claimed.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(claimed.secret, claimed.webhook_id, timestamp, body),
        }
        started = time.perf_counter()
        at = self.clock()
        status: int | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            # One deadline for the whole attempt: httpx's own timeout is per read, and a
            # receiver trickling a byte at a time would hold the attempt for ever.
            async with asyncio.timeout(self.timeout):
                answer = await client.post(
                    claimed.url, content=body, headers=headers, timeout=self.timeout
                )
            status = answer.status_code
            if status in (429, 503):
                retry_after = _retry_after(answer)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (TimeoutError, httpx.TimeoutException):
            status, error = None, f"timed out after {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        except Exception as exc:  # e.g. a stored URL httpx rejects: fail it, go on
            log.warning("webhook delivery %s: %s", claimed.webhook_id, exc)
            error = f"{type(exc).__name__}: {exc}"[:500]
        telemetry.WEBHOOK_DELIVERY_SECONDS.observe(time.perf_counter() - started)
        latency_ms = int((time.perf_counter() - started) * 1000)
        await run_in_threadpool(self._record, claimed, at, status, error, retry_after, latency_ms)

    def _record(
        self,
        claimed: Claimed,
        at: int,
        status: int | None,
        error: str | None,
        retry_after: float | None,
        latency_ms: int,
    ) -> None:
        now = self.clock()
        if status is not None and 200 <= status < 300:
            outcome, next_at = "delivered", now
        elif status == 410:
            outcome, next_at = "failed", now
        else:
            failures = claimed.attempts + 1 - claimed.retry_base
            delay = next_delay(failures, retry_after, self.schedule)
            if delay is None:
                outcome, next_at = "failed", now
            else:
                outcome, next_at = "pending", now + int(delay * 1000)
        with self.db.write() as conn:
            recorded = store.record_attempt(
                conn,
                claimed,
                at=at,
                status=status,
                latency_ms=latency_ms,
                error=error,
                outcome=outcome,
                next_attempt_at=next_at,
                now=now,
            )
            if not recorded:
                log.warning(
                    "webhook delivery %s: the claim lapsed before the attempt was recorded; "
                    "the delivery is attempted again",
                    claimed.webhook_id,
                )
                return
            if status == 410:
                store.set_enabled(conn, claimed.endpoint_id, False)
                log.warning("webhook endpoint %s answered 410 Gone: disabled", claimed.endpoint_id)
