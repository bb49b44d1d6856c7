"""FOOTFALL_FORWARDED_ALLOW_IPS read as uvicorn reads forwarded_allow_ips, and the client
address taken from X-Forwarded-For only when the peer is a configured proxy."""

from __future__ import annotations

import pytest

from footfall.config import ConfigError, Settings
from footfall.forwarded import NO_PROXIES, parse_forwarded_allow_ips


def test_by_default_no_peer_is_believed() -> None:
    assert Settings.from_env({}).forwarded_allow_ips == NO_PROXIES
    assert not NO_PROXIES
    assert NO_PROXIES.client("127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_addresses_networks_and_the_star() -> None:
    trusted = parse_forwarded_allow_ips(" 127.0.0.1, 10.0.0.0/8 ,::1")
    assert trusted.trusts("10.20.30.40")
    assert trusted.trusts("::1")
    assert not trusted.trusts("11.0.0.1")
    assert not trusted.trusts("/run/footfall.sock")
    assert parse_forwarded_allow_ips("*").trusts("203.0.113.9")


def test_the_client_is_the_nearest_untrusted_hop() -> None:
    trusted = parse_forwarded_allow_ips("127.0.0.1,10.0.0.0/8")
    assert trusted.client("127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert trusted.client("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2") == "198.51.100.1"
    assert trusted.client("127.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"  # all proxies
    assert trusted.client("192.0.2.5", "198.51.100.1") == "192.0.2.5"  # not a proxy
    assert trusted.client("127.0.0.1", None) == "127.0.0.1"
    assert trusted.client("127.0.0.1", " , ") == "127.0.0.1"


@pytest.mark.parametrize("raw", ["localhost", "10.0.0.0/33", "1.2.3.4,nope", "256.0.0.1"])
def test_a_malformed_setting_names_the_variable_and_the_entry(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"FOOTFALL_FORWARDED_ALLOW_IPS=.*is not an IP"):
        Settings.from_env({"FOOTFALL_FORWARDED_ALLOW_IPS": raw})
