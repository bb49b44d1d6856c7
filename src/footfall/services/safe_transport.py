"""Webhook targets checked where it matters: at creation and on every connection.

Invariant: unless private targets are allowed (FOOTFALL_WEBHOOK_ALLOW_PRIVATE=1), every
TCP connection the webhook client opens goes to an address that was checked public
(`domain.netguard`) by this very connection's resolution: `GuardedBackend` resolves the
host, checks every address it got, and connects to the first checked one itself. There is
no second lookup for a rebinding DNS server to answer differently. TLS still verifies the
certificate of, and sends SNI for, the URL's host name (httpcore starts TLS with the
origin's name after `connect_tcp`), and the Host header is the URL's.

A refused address is a `BlockedAddress`, an `httpx.ConnectError`: the dispatcher records it
as a failed attempt with its message, like any other connection failure.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence

import anyio
import httpcore
import httpx

from footfall.domain.netguard import (
    UrlRejected,
    WebhookTarget,
    check_addresses,
    ip_literal,
    name_problem,
    parse_webhook_url,
)

__all__ = [
    "BlockedAddress",
    "GuardedBackend",
    "Resolver",
    "WebhookTransport",
    "check_webhook_url",
    "system_resolver",
]

# host, port -> the IP addresses (text) a connection to them may use
Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives (what a plain connect uses)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


def check_webhook_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> WebhookTarget:
    """At creation: the URL's syntax, then (unless private targets are allowed) the
    addresses its host resolves to now. Raises UrlRejected with a message for the user."""
    target = parse_webhook_url(url)
    if allow_private:
        return target
    literal = ip_literal(target.host)
    try:
        addresses = [str(literal)] if literal is not None else resolver(target.host, target.port)
    except (OSError, UnicodeError):
        # A name that does not resolve from here (yet) is not refused: it may resolve where
        # the server runs, and every delivery checks the addresses it connects to anyway.
        addresses = []
    if addresses or name_problem(target.host) is not None:
        check_addresses(target.host, addresses)
    return target


class BlockedAddress(httpx.ConnectError):
    """A webhook connection refused by the address rules (a failed attempt)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking before every connect."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await anyio.to_thread.run_sync(self._resolver, host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        if self._allow_private:
            targets = list(addresses)
        else:
            try:
                targets = [str(a) for a in check_addresses(host, addresses)]
            except UrlRejected as exc:
                raise BlockedAddress(f"refused at delivery: {exc}") from None
        if not targets:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        failure: Exception | None = None
        for address in targets:  # each one checked above; the first that answers wins
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("webhooks never connect to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class WebhookTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a `GuardedBackend` (no proxies: connections go direct)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits = httpx.Limits(max_connections=200, max_keepalive_connections=50),
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; this is the same
        # pool (see httpx.AsyncHTTPTransport.__init__) with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
