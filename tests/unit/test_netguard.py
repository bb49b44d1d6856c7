"""The webhook target rules (docs/api.md, Webhooks; docs/operations.md, Configuration) as pure
functions."""

from __future__ import annotations

import ipaddress

import pytest

from footfall.domain.netguard import (
    UrlRejected,
    address_problem,
    check_addresses,
    ip_literal,
    parse_webhook_url,
)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7F.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_the_c_library_reads_it(
    host: str, address: str
) -> None:
    assert ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "08.1.1.1", "0x", ""])
def test_names_are_not_addresses(host: str) -> None:
    if host == "0x":  # inet_aton reads a bare 0x as 0
        assert ip_literal(host) == ipaddress.ip_address("0.0.0.0")
        return
    assert ip_literal(host) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "an IPv6 form of 127.0.0.1 (loopback)"),
        ("2002:7f00:1::", "an IPv6 form of 127.0.0.1 (loopback)"),
        ("64:ff9b::a00:1", "an IPv6 form of 10.0.0.1 (private)"),
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_a_name_is_refused_when_any_of_its_addresses_is_private() -> None:
    assert [str(a) for a in check_addresses("hooks.example", ["8.8.8.8"])] == ["8.8.8.8"]
    with pytest.raises(UrlRejected, match=r"hooks.example resolves to 10\.0\.0\.1 \(private\)"):
        check_addresses("hooks.example", ["8.8.8.8", "10.0.0.1"])
    with pytest.raises(UrlRejected, match="localhost"):
        check_addresses("api.localhost", ["8.8.8.8"])
    with pytest.raises(UrlRejected, match="FOOTFALL_WEBHOOK_ALLOW_PRIVATE=1"):
        check_addresses("0x7f000001", ["127.0.0.1"])


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.com/\x00hook", "'\\x00' at position 19"),
        ("http://exa mple.com/", "' ' at position 10"),
        ("http://example.com/\thook", "'\\t'"),
        ("http://example.com/\x7f", "'\\x7f'"),
        ("http://exa\\mple.com/", "backslashes"),
        ("http://user:pw@example.com/", "user names and passwords"),
        ("http://user@example.com/", "user names and passwords"),
        ("http://example.com:0/", "port must be a number from 1 to 65535"),
        ("http://example.com:65536/", "port must be a number from 1 to 65535"),
        ("http://example.com:http/", "port must be a number from 1 to 65535"),
        ("http://example.com:/", "port must be a number from 1 to 65535"),
        ("http://example.com/#x", "fragment"),
        ("ftp://example.com/", "expected an http:// or https:// URL"),
        ("http:///path", "expected an http:// or https:// URL"),
        ("http://[not-v6]/", "not an IPv6 address"),
        ("http://example.com/" + "a" * 2100, "at most 2048"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(url: str, words: str) -> None:
    with pytest.raises(UrlRejected) as refused:
        parse_webhook_url(url)
    assert words in str(refused.value)


def test_well_formed_urls_give_host_and_port() -> None:
    target = parse_webhook_url("https://Hooks.Example.com/in?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert parse_webhook_url("http://[2606:4700::1111]:8080/").host == "2606:4700::1111"
    assert parse_webhook_url("http://example.com/").port == 80


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("192.0.0.8", "IPv4 dummy address, 192.0.0.8/32"),
        ("192.0.0.200", "IETF Protocol Assignments, 192.0.0.0/24"),
        ("198.18.0.1", "Benchmarking, 198.18.0.0/15"),
        ("198.19.255.254", "Benchmarking, 198.18.0.0/15"),
        ("240.0.0.1", "Reserved, 240.0.0.0/4"),
        ("2001:db8::1", "Documentation, 2001:db8::/32"),
        ("3fff::1", "Documentation, 3fff::/20"),
        ("2001:2::1", "Benchmarking, 2001:2::/48"),
        ("100::1", "Discard-Only Address Block, 100::/64"),
        ("5f00::1", "Segment Routing (SRv6) SIDs, 5f00::/16"),
        ("64:ff9b::808:808", "IPv4-IPv6 Translat., 64:ff9b::/96"),
        ("64:ff9b:1::808:808", "IPv4-IPv6 Translat., 64:ff9b:1::/48"),
    ],
)
def test_special_purpose_addresses_are_refused_by_the_iana_registry(
    address: str, block: str
) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None, address
    assert (
        problem
        in (  # named by Python when it knows the block, else by the registry
            "reserved",
            "private",
            "not a public address",
        )
        or block in problem
    )


@pytest.mark.parametrize(
    "address", ["192.0.0.9", "192.31.196.1", "2001:4:112::1", "2620:4f:8000::1"]
)
def test_special_blocks_the_registry_calls_globally_reachable_pass(address: str) -> None:
    """AS112 and the anycast services are reachable on the Internet (the registry says
    so): only Python's own rules might refuse them, never the registry table."""
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is None or "special-purpose" not in problem


def test_the_reported_special_purpose_target_is_refused_with_what_to_do() -> None:
    with pytest.raises(UrlRejected, match=r"192\.0\.0\.8 is special-purpose: IPv4 dummy"):
        check_addresses("192.0.0.8", ["192.0.0.8"])
    with pytest.raises(UrlRejected, match="FOOTFALL_WEBHOOK_ALLOW_PRIVATE=1"):
        check_addresses("hooks.example", ["198.18.0.1"])
