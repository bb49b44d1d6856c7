"""Which webhook targets are allowed (docs/api.md, Webhooks; docs/operations.md, Configuration):
pure rules, no I/O.

Invariant: unless private targets are explicitly allowed, a webhook URL is accepted only
when it is a well-formed http(s) URL (no control or whitespace characters, no userinfo, a
port from 1 to 65535) whose host is, and resolves only to, public unicast addresses. An
address counts as public when Python's `ipaddress` calls it global, it is not multicast,
and no block of the IANA special-purpose registries that holds it says it is not globally
reachable (`domain.special_addresses`: `is_global` alone lags the registries); an IPv6
address that embeds an IPv4 one (mapped, 6to4, NAT64, Teredo) is judged by the embedded
address too, and the NAT64 prefixes are refused whatever they embed, because such an
address names a translator on the server's own network rather than the receiver. Host
spellings the C library also accepts for IPv4 (`2130706433`, `0x7f000001`, `0177.1`,
`127.1`) are read as the addresses they mean, so no spelling slips past the check that
the connecting resolver would not.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urlsplit

from footfall.domain.special_addresses import special_block

__all__ = [
    "ALLOW_PRIVATE_VARIABLE",
    "IPAddress",
    "UrlRejected",
    "WebhookTarget",
    "address_problem",
    "check_addresses",
    "ip_literal",
    "name_problem",
    "parse_webhook_url",
]

ALLOW_PRIVATE_VARIABLE: Final = "FOOTFALL_WEBHOOK_ALLOW_PRIVATE"
MAX_URL_LENGTH: Final = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_PART: Final = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


class UrlRejected(ValueError):
    """The URL cannot be a webhook target; the message says why and what to do."""


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    scheme: str
    host: str  # without brackets for IPv6
    port: int


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address the C library's inet_aton reads in `host`, or None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(head):
        number += value << (24 - 8 * index)
    return ipaddress.IPv4Address(number)


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells (IPv6 with or without brackets, any inet_aton IPv4 form)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare.split("%", 1)[0])
        except ValueError:
            return None
    return _inet_aton(bare)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IPAddress) -> str | None:
    """None for a public unicast address, else what kind of address it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and address_problem(embedded) is not None:
            return f"an IPv6 form of {embedded} ({address_problem(embedded)})"
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if flag:
            return kind
    if not address.is_global:
        return "not a public address"
    return _registry_problem(address)


def _registry_problem(address: IPAddress) -> str | None:
    block = special_block(address)
    if block is None:
        return None
    described = f"special-purpose: {block.name}, {block.network}, {block.reference}"
    if block.globally_reachable is not True or address in _NAT64:
        return described
    return None


def name_problem(host: str) -> str | None:
    """Names that mean this machine whatever DNS says (RFC 6761)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return "this machine (localhost)"
    return None


def check_addresses(host: str, addresses: Sequence[str]) -> list[IPAddress]:
    """The addresses `host` resolved to, once every one is public; raises UrlRejected."""
    problem = name_problem(host)
    if problem is not None:
        raise UrlRejected(_refusal(f"{host} is", problem))
    if not addresses:
        raise UrlRejected(f"{host} resolves to no address")
    checked: list[IPAddress] = []
    for text in addresses:
        address = ip_literal(text)
        if address is None:
            raise UrlRejected(f"{host} resolves to {text!r}, which is not an IP address")
        problem = address_problem(address)
        if problem is not None:
            literal = ip_literal(host)
            if literal is not None:
                what = f"{literal} ({problem})" if str(literal) != host.strip("[]") else problem
                raise UrlRejected(_refusal(f"{host} is", what))
            raise UrlRejected(_refusal(f"{host} resolves to", f"{address} ({problem})"))
        checked.append(address)
    return checked


def _refusal(subject: str, what: str) -> str:
    return (
        f"{subject} {what}: webhooks may only reach public addresses; set "
        f"{ALLOW_PRIVATE_VARIABLE}=1 to allow loopback, private and link-local receivers"
    )


def _bad_character(url: str) -> str | None:
    for index, char in enumerate(url):
        if ord(char) <= 0x20 or ord(char) == 0x7F or char in '\\<>"`{}|^' or char.isspace():
            return f"{char!r} at position {index}"
    return None


def parse_webhook_url(url: str) -> WebhookTarget:
    """Strict syntax check of a webhook URL (no DNS); raises UrlRejected."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRejected(f"--url is {len(url)} characters long: at most {MAX_URL_LENGTH}")
    bad = _bad_character(url)
    if bad is not None:
        raise UrlRejected(
            f"--url {url!r}: contains {bad}; control characters, spaces and "
            "backslashes are not allowed (percent-encode them)"
        )
    try:
        parts: SplitResult = urlsplit(url)
    except ValueError:  # urllib checks bracketed hosts
        raise UrlRejected(f"--url {url!r}: the host in [brackets] is not an IPv6 address") from None
    try:
        port = parts.port
    except ValueError:
        raise UrlRejected(f"--url {url!r}: the port must be a number from 1 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRejected(f"--url {url!r}: expected an http:// or https:// URL with a host")
    if "@" in parts.netloc:
        raise UrlRejected(
            f"--url {url!r}: user names and passwords in the URL are not allowed "
            "(receivers authenticate deliveries by their webhook-signature)"
        )
    if port == 0 or parts.netloc.endswith(":"):
        raise UrlRejected(f"--url {url!r}: the port must be a number from 1 to 65535")
    if parts.fragment or url.endswith("#"):
        raise UrlRejected(f"--url {url!r}: a #fragment is never sent; drop it")
    host = parts.hostname
    if parts.netloc.startswith("[") and ip_literal(host) is None:
        raise UrlRejected(f"--url {url!r}: {host!r} is not an IPv6 address")
    return WebhookTarget(url, parts.scheme, host, port or (443 if parts.scheme == "https" else 80))
