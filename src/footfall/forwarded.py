"""Which proxies may say who the client is (`FOOTFALL_FORWARDED_ALLOW_IPS`).

Invariant: a request's client address is the peer's, unless the peer is a configured
proxy; then it is taken from `X-Forwarded-For` the way uvicorn's `forwarded_allow_ips`
takes it: the nearest address (from the right) that is not itself a configured proxy, or
the leftmost when every one is. The setting has uvicorn's form — a comma-separated list of
IP addresses and networks (`10.0.0.0/8`), or `*` for any peer — but the default is none,
so no client can pick its own address (and so its sign-in back-off) by sending the
header. `parse_forwarded_allow_ips` is the one parser of the setting;
`ForwardedClient` applies it to every request, before anything reads the client address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "NO_PROXIES",
    "VARIABLE",
    "ForwardedClient",
    "TrustedProxies",
    "parse_forwarded_allow_ips",
]

VARIABLE = "FOOTFALL_FORWARDED_ALLOW_IPS"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()
    everyone: bool = False  # `*`

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def trusts(self, host: str) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a Unix socket path or a name: never a configured proxy
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address, given the peer's and the X-Forwarded-For header."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


NO_PROXIES = TrustedProxies()


def parse_forwarded_allow_ips(raw: str | None) -> TrustedProxies:
    """The setting's value read strictly; ValueError naming the entry that is wrong."""
    text = (raw or "").strip()
    if not text:
        return TrustedProxies()
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if "*" in entries:
        return TrustedProxies(everyone=True)
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{VARIABLE}={raw!r}: {entry!r} is not an IP address or network; expected a "
                "comma-separated list such as 127.0.0.1,10.0.0.0/8 (or * for any peer)"
            ) from None
    return TrustedProxies(tuple(networks))


class ForwardedClient:
    """Pure ASGI middleware: rewrites `scope["client"]` for requests from trusted proxies."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket") and scope.get("client"):
            peer_host, peer_port = scope["client"]
            header = b", ".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
            client = self.trusted.client(peer_host, header.decode("latin-1") or None)
            if client != peer_host:
                scope = {**scope, "client": (client, peer_port)}
        await self.app(scope, receive, send)
