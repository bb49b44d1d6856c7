"""The Footfall Python SDK: signed requests to the read API (Camlytics v1 compatible).

    from footfall.client import Client
    api = Client("http://127.0.0.1:8000", public_key, secret)
    for event in api.iter_events(location_id=1, since="2026-11-24T00:00:00Z"):
        ...

Every request carries a fresh nonce (microseconds since the epoch, and always greater than
the previous one, even across threads), is signed over the exact URI it is sent with, and
waits out a 429 by its Retry-After before trying again with a new nonce. A request
refused for its nonce (another thread's later nonce arrived first) is sent again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from footfall.domain.signing import sign

__all__ = ["API_PREFIX", "Client", "FootfallError"]

API_PREFIX = "/service/api/v1"

Value = str | int | datetime | Iterable[str | int] | None


class FootfallError(Exception):
    """The server refused a request: `status` (HTTP), `code` (docs/api.md, The read API) and its
    message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, code {code})")
        self.status = status
        self.code = code
        self.message = message


def _format(value: Value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("since/until need a time zone: use an aware datetime")
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, str | int):
        return str(value)
    assert value is not None
    return ",".join(str(item) for item in value)


class Client:
    def __init__(
        self,
        base_url: str,
        public_key: str,
        secret: str,
        *,
        timeout: float = 30.0,
        max_throttle_wait: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.public_key = public_key
        self._secret = secret
        self._max_wait = max_throttle_wait
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._nonce_lock = threading.Lock()
        self._last_nonce = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def next_nonce(self) -> int:
        with self._nonce_lock:
            self._last_nonce = max(time.time_ns() // 1000, self._last_nonce + 1)
            return self._last_nonce

    def signed_uri(self, path: str, params: Mapping[str, Value] | None = None) -> str:
        """The request URI with a new nonce, percent-encoded as it will be sent."""
        query = {"nonce": str(self.next_nonce())}
        for name, value in (params or {}).items():
            if value is not None:
                query[name] = _format(value)
        return f"{API_PREFIX}{path}?{urlencode(query, quote_via=quote, safe=',')}"

    def get(self, path: str, params: Mapping[str, Value] | None = None) -> list[dict[str, Any]]:
        """One signed GET; returns the envelope's `result`."""
        waited = 0.0
        nonce_retries = 3
        while True:
            uri = self.signed_uri(path, params)
            headers = {"X-Key": self.public_key, "X-Sign": sign(self._secret, uri)}
            answer = self._http.get(httpx.URL(self.base_url + uri), headers=headers)
            if answer.status_code in (429, 503) and waited < self._max_wait:
                pause = float(answer.headers.get("Retry-After", "1"))
                waited += pause
                time.sleep(pause)
                continue
            try:
                body = answer.json()
            except ValueError:
                raise FootfallError(answer.status_code, -1, answer.text[:200]) from None
            if body.get("code") == 3 and nonce_retries > 0:
                # Another thread's later nonce overtook this one on the wire; the refused
                # request did nothing, so sending it again with a fresh nonce is safe.
                nonce_retries -= 1
                continue
            if answer.status_code != 200 or body.get("code") != 0:
                raise FootfallError(answer.status_code, body.get("code", -1), body.get("msg", ""))
            result: list[dict[str, Any]] = body["result"]
            return result

    # One method per endpoint; keyword arguments are the query parameters of docs/api.md's read API.

    def locations(self) -> list[dict[str, Any]]:
        return self.get("/locations")

    def channels(self, *, location_id: Value = None) -> list[dict[str, Any]]:
        return self.get("/channels", {"location_id": location_id})

    def triggers(
        self, *, location_id: Value = None, channel_id: Value = None
    ) -> list[dict[str, Any]]:
        return self.get("/triggers", {"location_id": location_id, "channel_id": channel_id})

    def events(self, **params: Value) -> list[dict[str, Any]]:
        return self.get("/events", params)

    def totals_by_trigger(self, **params: Value) -> list[dict[str, Any]]:
        return self.get("/totals/triggers", params)

    def totals_by_type(self, **params: Value) -> list[dict[str, Any]]:
        return self.get("/totals/types", params)

    def histograms(self, **params: Value) -> list[dict[str, Any]]:
        return self.get("/histograms", params)

    def coverage(self, **params: Value) -> list[dict[str, Any]]:
        """Covered seconds per channel and hour (Footfall extension)."""
        return self.get("/coverage", params)

    def _pages(self, path: str, params: dict[str, Value]) -> Iterator[dict[str, Any]]:
        after = params.pop("after_id", None) or 0
        limit = int(str(params.pop("limit", None) or 1000))
        while True:
            page = self.get(path, {**params, "after_id": after, "limit": limit})
            yield from page
            if len(page) < limit:
                return
            after = page[-1]["id"]

    def iter_events(self, **params: Value) -> Iterator[dict[str, Any]]:
        """Every matching event, page by page with after_id (never misses one)."""
        return self._pages("/events", dict(params))

    def iter_histograms(self, **params: Value) -> Iterator[dict[str, Any]]:
        return self._pages("/histograms", dict(params))
