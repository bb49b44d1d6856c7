"""Webhooks never reach private addresses unless allowed (docs/api.md, Webhooks;
docs/operations.md, Configuration), on both engines:
refused at creation (every spelling, and names resolving there), and checked again at
delivery on the very address the connection uses (DNS rebinding)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from footfall.cli.main import app
from footfall.services import webhooks
from footfall.services.dispatcher import Dispatcher
from footfall.services.errors import ServiceError
from footfall.services.safe_transport import WebhookTransport
from footfall.store.db import Database
from tests.conftest import Site
from tests.e2e.test_webhooks import DispatcherThread
from tests.helpers import event, ingest_directly
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

PUBLIC = "93.184.215.14"


def guarded_client(allow_private: bool, resolver: Callable[[str, int], Sequence[str]]) -> Any:
    """The dispatcher's transport with a test resolver; no keep-alive, so nothing is left
    open when the dispatcher (which does not close a client it was given) stops."""
    transport = WebhookTransport(
        allow_private=allow_private,
        resolver=resolver,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    return httpx.AsyncClient(transport=transport)


def resolving_to(*addresses: str) -> Callable[[str, int], Sequence[str]]:
    return lambda _host, _port: list(addresses)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:5432/", "127.0.0.1 is loopback"),
        ("http://[::1]:8000/hook", "::1 is loopback"),
        ("http://localhost:8000/", "localhost is this machine"),
        ("http://2130706433/", "2130706433 is 127.0.0.1 (loopback)"),
        ("http://0x7f000001/", "0x7f000001 is 127.0.0.1 (loopback)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://10.0.0.7/", "10.0.0.7 is private"),
        ("http://[fd00::1]/", "fd00::1 is private"),
        ("http://[fe80::1]/", "fe80::1 is link-local"),
        ("http://[::ffff:127.0.0.1]/", "an IPv6 form of 127.0.0.1"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is unspecified"),
        ("http://224.0.0.1/", "multicast"),
        # IANA special-purpose blocks that Python's is_global lets through.
        ("http://192.0.0.8/", "192.0.0.8 is special-purpose: IPv4 dummy address"),
        ("http://192.0.0.100/", "special-purpose: IETF Protocol Assignments"),
        ("http://[3fff::1]/", "3fff::1 is special-purpose: Documentation"),
    ],
)
def test_private_targets_are_refused_at_creation(
    db: Database, site: Site, url: str, words: str
) -> None:
    with pytest.raises(ServiceError) as refused:
        webhooks.create_endpoint(db, location_id=site.location_id, url=url)
    assert words in str(refused.value)
    assert "FOOTFALL_WEBHOOK_ALLOW_PRIVATE=1" in str(refused.value)
    assert webhooks.list_endpoints(db) == []
    # With the variable they are allowed (a receiver on the LAN).
    allowed = webhooks.create_endpoint(
        db, location_id=site.location_id, url=url, allow_private=True
    )
    assert allowed.url == url


def test_a_name_resolving_to_a_private_address_is_refused(db: Database, site: Site) -> None:
    for addresses in (["127.0.0.1"], [PUBLIC, "10.1.2.3"], ["::1"]):
        with pytest.raises(ServiceError, match=r"hooks\.example\.com resolves to"):
            webhooks.create_endpoint(
                db,
                location_id=site.location_id,
                url="https://hooks.example.com/in",
                resolver=resolving_to(*addresses),
            )
    made = webhooks.create_endpoint(
        db,
        location_id=site.location_id,
        url="https://hooks.example.com/in",
        resolver=resolving_to(PUBLIC),
    )
    assert [e.id for e in webhooks.list_endpoints(db)] == [made.id]

    def unknown(host: str, _port: int) -> list[str]:
        raise OSError(f"Name or service not known: {host}")

    # A name that does not resolve here may where the server runs: deliveries check it.
    later = webhooks.create_endpoint(
        db, location_id=site.location_id, url="https://not-yet.example.com/", resolver=unknown
    )
    assert later.url == "https://not-yet.example.com/"


def test_malformed_urls_are_refused_before_anything_is_stored(db: Database, site: Site) -> None:
    for url in ("http://example.com/\x00", "http://a:b@example.com/", "http://example.com:99999/"):
        with pytest.raises(ServiceError, match="--url"):
            webhooks.create_endpoint(db, location_id=site.location_id, url=url, allow_private=True)
    assert webhooks.list_endpoints(db) == []


def test_cli_refuses_private_targets_unless_the_variable_allows_them(
    db_url: str, site: Site
) -> None:
    runner = CliRunner()
    args = ["webhooks", "create", "--location", str(site.location_id), "--db", db_url]
    refused = runner.invoke(app, [*args, "--url", "http://127.0.0.1:5432/"])
    assert refused.exit_code == 1
    assert "FOOTFALL_WEBHOOK_ALLOW_PRIVATE=1" in refused.stderr
    refused = runner.invoke(app, [*args, "--url", "http://example.com/\x00x"])
    assert refused.exit_code == 1
    assert "'\\x00'" in refused.stderr
    allowed = runner.invoke(
        app,
        [*args, "--url", "http://127.0.0.1:5432/", "--json"],
        env={"FOOTFALL_WEBHOOK_ALLOW_PRIVATE": "1"},
    )
    assert allowed.exit_code == 0, allowed.output


def _attempted(db: Database, timeout: float = 20) -> webhooks.DeliveryView:
    deadline = time.monotonic() + timeout
    while True:
        found = [d for d in webhooks.list_deliveries(db) if d.attempts > 0]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "no attempt was recorded"
        time.sleep(0.05)


def test_rebinding_public_at_creation_private_at_delivery_is_refused(
    db: Database, site: Site
) -> None:
    receiver = Receiver().start()
    try:
        url = f"http://hooks.rebind.test:{receiver.port}/hook"
        webhooks.create_endpoint(
            db, location_id=site.location_id, url=url, resolver=resolving_to(PUBLIC)
        )
        ingest_directly(db, site.location_id, [event(1)])
        # At delivery the name now answers loopback, where the receiver listens.
        client = guarded_client(False, resolving_to("127.0.0.1"))
        dispatcher = Dispatcher(db, timeout=2.0, poll_interval=0.05, client=client)
        with DispatcherThread(dispatcher):
            attempted = _attempted(db)
        assert attempted.status == "pending"  # a failed attempt, retried on the schedule
        assert attempted.last_status is None
        assert attempted.last_error is not None
        assert attempted.last_error.startswith("BlockedAddress: refused at delivery")
        assert "hooks.rebind.test resolves to 127.0.0.1 (loopback)" in attempted.last_error
        assert receiver.received == []
    finally:
        receiver.stop()


def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
    db: Database, site: Site
) -> None:
    """With private targets allowed, the same name reaches the receiver through the
    address the resolver gave (no second lookup), and the Host header keeps the name."""
    receiver = Receiver().start()
    try:
        url = f"http://hooks.rebind.test:{receiver.port}/hook"
        webhooks.create_endpoint(db, location_id=site.location_id, url=url, allow_private=True)
        ingest_directly(db, site.location_id, [event(1)])
        client = guarded_client(True, resolving_to("127.0.0.1"))
        dispatcher = Dispatcher(db, timeout=2.0, poll_interval=0.05, client=client)
        with DispatcherThread(dispatcher):
            receiver.wait_for(lambda got: len(got) == 1)
        assert receiver.received[0].headers["host"] == f"hooks.rebind.test:{receiver.port}"
    finally:
        receiver.stop()


def test_the_default_dispatcher_checks_addresses_at_delivery(db: Database, site: Site) -> None:
    """An endpoint stored while private targets were allowed is not reached once they are
    not: the server's own dispatcher records the refusal as a failed attempt."""
    receiver = Receiver().start()
    try:
        webhooks.create_endpoint(
            db, location_id=site.location_id, url=receiver.url, allow_private=True
        )
        ingest_directly(db, site.location_id, [event(1)])
        with DispatcherThread(Dispatcher(db, timeout=2.0, poll_interval=0.05)):
            attempted = _attempted(db)
        assert attempted.last_error is not None
        assert "127.0.0.1 is loopback" in attempted.last_error
        assert receiver.received == []
    finally:
        receiver.stop()
