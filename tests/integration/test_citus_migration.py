"""Migration 0009 (the Citus rules) converts a database holding rows at revision 0008, on
both engines: every row and id survives, tokens still open what they opened, nonce and
throttle state carry over, and new ids go on past the old ones."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text

from footfall.domain.sealing import API_KEY_SECRET, WEBHOOK_SECRET, new_key_text
from footfall.services import feeds, occupancy, webhooks
from footfall.services.errors import NotFoundError
from footfall.services.ingest import Ingest
from footfall.services.management import hash_token
from footfall.services.read_auth import AuthFailure, authenticate_request
from footfall.store.db import Database
from footfall.store.migrate import _config, ensure_secret_key, head_revision, upgrade
from footfall.store.secret_key import ENV
from tests.helpers import STORE_CONFIG, Signer, ingest_directly

FEED_TOKEN = "0123456789abcdef0123456789abcdef"
REVOKED_FEED_TOKEN = "fedcba9876543210fedcba9876543210"
INGEST_TOKENS = {1: "ffi_first-location-token", 2: "ffi_second-location-token"}

# What a database at revision 0008 holds, with ids that are neither 1 nor contiguous.
ROWS: dict[str, list[dict[str, Any]]] = {
    "accounts": [
        {"id": 1, "name": "A", "created_at": 10},
        {"id": 2, "name": "B", "created_at": 11},
    ],
    "locations": [
        {
            "id": location_id,
            "account_id": location_id,
            "name": f"L{location_id}",
            "timezone": "UTC",
            "hash": f"hash-{location_id}",
            "ingest_token_hash": hash_token(token),
            "version": "3.2.1",
            "config_version": 0,
            "webhooks_version": 4,
            "last_seen_at": 99,
            "created_at": 12,
        }
        for location_id, token in INGEST_TOKENS.items()
    ],
    "occupancy_counters": [
        {
            "id": 3,
            "location_id": 1,
            "name": "Door",
            "enter_triggers": "t-enter",
            "exit_triggers": "t-exit",
            "zone_trigger": None,
            "capacity": 40,
            "reset_minute": 300,
            "created_at": 13,
        },
        {
            "id": 7,
            "location_id": 2,
            "name": "Shelf",
            "enter_triggers": "",
            "exit_triggers": "",
            "zone_trigger": "t-shelf",
            "capacity": None,
            "reset_minute": 0,
            "created_at": 14,
        },
    ],
    "queues": [
        {"id": 2, "location_id": 1, "name": "Till", "zone_trigger": "t-shelf", "created_at": 15},
        {"id": 5, "location_id": 2, "name": "Desk", "zone_trigger": "t-shelf", "created_at": 16},
    ],
    "webhook_endpoints": [
        {
            "id": 4,
            "account_id": 1,
            "location_id": 1,
            "channel_id": None,
            "kind": "occupancy",
            "url": "https://hooks.example/occupancy",
            "secret": "",  # sealed in the test
            "enabled": 1,
            "created_at": 17,
        },
        {
            "id": 9,
            "account_id": 2,
            "location_id": 2,
            "channel_id": "cam-door",
            "kind": "events",
            "url": "https://hooks.example/events",
            "secret": "",
            "enabled": 0,
            "created_at": 18,
        },
    ],
    "webhook_deliveries": [
        {
            "location_id": 2,
            "id": 11,
            "endpoint_id": 9,
            "webhook_id": "msg_0001",
            "body": "[]",
            "status": "failed",
            "attempts": 8,
            "retry_base": 0,
            "next_attempt_at": 19,
            "claim_token": None,
            "last_status": 500,
            "last_error": "HTTP 500",
            "created_at": 20,
            "delivered_at": None,
        },
        {
            "location_id": 1,
            "id": 12,
            "endpoint_id": 4,
            "webhook_id": "msg_0002",
            "body": "{}",
            "status": "delivered",
            "attempts": 1,
            "retry_base": 0,
            "next_attempt_at": 21,
            "claim_token": None,
            "last_status": 200,
            "last_error": None,
            "created_at": 22,
            "delivered_at": 23,
        },
    ],
    "webhook_metric_state": [
        {"endpoint_id": 4, "metric_id": 3, "value": '{"occupancy": 2}', "sent_at": 24},
    ],
    "feeds": [
        {
            "id": 1,
            "account_id": 1,
            "location_id": 1,
            "token_hash": hash_token(FEED_TOKEN),
            "token_prefix": FEED_TOKEN[:8],
            "name": "Daily",
            "metric": "count",
            "triggers": "t-enter",
            "occupancy_ids": "",
            "queue_ids": "",
            "event_types": "",
            "origins": "",
            "period": "today",
            "since_ms": None,
            "until_ms": None,
            "granularity": "hour",
            "created_at": 25,
            "revoked_at": None,
        },
        {
            "id": 6,
            "account_id": 2,
            "location_id": 2,
            "token_hash": hash_token(REVOKED_FEED_TOKEN),
            "token_prefix": REVOKED_FEED_TOKEN[:8],
            "name": "Old",
            "metric": "queue",
            "triggers": "",
            "occupancy_ids": "",
            "queue_ids": "5",
            "event_types": "",
            "origins": "",
            "period": None,
            "since_ms": 1000,
            "until_ms": 2000,
            "granularity": "day",
            "created_at": 26,
            "revoked_at": 27,
        },
    ],
}
KEYS = [("pk-first", "first-secret", 1, 500, 1_000), ("pk-second", "second-secret", 2, 0, 0)]
USAGE = {"key_id": "id", "last_nonce": "last_nonce", "next_request_us": "next_request_us"}
# Columns that moved elsewhere (checked there) and so are not compared in place.
MOVED = {
    "locations": {"ingest_token_hash"},
    "feeds": {"token_hash"},
    "api_keys": {"last_nonce", "next_request_us"},
}


@pytest.fixture
def keyed_blank_url(blank_url: str, engine: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database of the engine under test, with its secrets' key at hand."""
    if engine == "postgresql":
        monkeypatch.setenv(ENV, new_key_text())
    return blank_url


def _insert(conn: Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    conn.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row
    )


def _rows(conn: Connection, table: str, columns: list[str]) -> list[dict[str, Any]]:
    found = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2"))
    return [dict(row._mapping) for row in found]


def _at_0008(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Migrate a blank database to 0008 and fill it; returns what it holds."""
    ensure_secret_key(db)
    config = _config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        config.attributes["keyring"] = lambda: db.keyring
        config.attributes["scrub"] = False
        command.upgrade(config, "0008")
    rows = {table: [dict(r) for r in table_rows] for table, table_rows in ROWS.items()}
    for row in rows["webhook_endpoints"]:
        row["secret"] = db.keyring.seal(f"whsec_{row['id']:032d}", WEBHOOK_SECRET)
    rows["api_keys"] = [
        {
            "id": index * 10,
            "account_id": account,
            "public_key": public,
            "secret": db.keyring.seal(secret, API_KEY_SECRET),
            "created_at": 28,
            "revoked_at": None,
            "last_nonce": nonce,
            "next_request_us": next_us,
        }
        for index, (public, secret, account, nonce, next_us) in enumerate(KEYS, start=1)
    ]
    with db.engine.begin() as conn:
        for table in ("accounts", "locations", "api_keys", *list(ROWS)[2:]):
            for row in rows[table]:
                _insert(conn, table, row)
    return rows


def test_0009_keeps_every_row_and_id(keyed_blank_url: str) -> None:
    db = Database(keyed_blank_url)
    try:
        before = _at_0008(db)
        assert upgrade(db) == head_revision()  # through 0009 and what follows it
        with db.read() as conn:
            for table, rows in before.items():
                columns = [c for c in rows[0] if c not in MOVED.get(table, set())]
                expected = sorted(
                    ({c: row[c] for c in columns} for row in rows),
                    key=lambda r: (r[columns[0]], r[columns[1]]),
                )
                assert _rows(conn, table, columns) == expected, table
            # The moved columns, where they went.
            assert _rows(
                conn, "token_lookup", ["token_hash", "kind", "location_id", "feed_id"]
            ) == (
                sorted(
                    [
                        *(
                            {
                                "token_hash": hash_token(token),
                                "kind": "ingest",
                                "location_id": location_id,
                                "feed_id": None,
                            }
                            for location_id, token in INGEST_TOKENS.items()
                        ),
                        *(
                            {
                                "token_hash": feed["token_hash"],
                                "kind": "feed",
                                "location_id": feed["location_id"],
                                "feed_id": feed["id"],
                            }
                            for feed in before["feeds"]
                        ),
                    ],
                    key=lambda r: (r["token_hash"], r["kind"]),
                )
            )
            assert _rows(conn, "api_key_usage", ["key_id", "last_nonce", "next_request_us"]) == [
                {k: key[c] for k, c in USAGE.items()} for key in before["api_keys"]
            ]
            assert _rows(conn, "webhook_metric_state", ["location_id", "endpoint_id"]) == [
                {"location_id": 1, "endpoint_id": 4}
            ]
        assert upgrade(db) == head_revision()  # idempotent
    finally:
        db.dispose()


def test_after_0009_tokens_keys_and_new_ids_behave_as_before(keyed_blank_url: str) -> None:
    db = Database(keyed_blank_url)
    try:
        _at_0008(db)
        upgrade(db)
        # Ingest tokens still open their own location.
        service = Ingest(db)
        try:
            for location_id, token in INGEST_TOKENS.items():
                found = service.authenticate(token)
                assert found is not None
                assert (found.id, found.hash) == (location_id, f"hash-{location_id}")
            assert service.authenticate("ffi_unknown") is None
        finally:
            service.close()
        # The feed URL still works; the revoked one stays revoked.
        assert feeds.build_report(db, FEED_TOKEN).feed.id == 1
        with pytest.raises(NotFoundError):
            feeds.build_report(db, REVOKED_FEED_TOKEN)
        # The nonce carried over: 500 was the last one accepted for the first key.
        public, secret = KEYS[0][0], KEYS[0][1]

        def call(nonce: int) -> None:
            uri = f"/service/api/v1/locations?nonce={nonce}"
            authenticate_request(
                db,
                public_key=public,
                signature=Signer(public, secret).headers(uri)["X-Sign"],
                uri=uri,
                nonce_text=str(nonce),
                rate_limit=0,
            )

        with pytest.raises(AuthFailure) as refused:
            call(500)
        assert refused.value.code == 3
        call(501)
        # New rows get ids past every old one, on each location.
        ingest_directly(db, 1, config=STORE_CONFIG)
        counter = occupancy.create_counter(
            db, location_id=1, name="New", enter=("t-enter",), exit_=("t-exit",)
        )
        queue = occupancy.create_queue(db, location_id=1, name="New", zone="t-shelf")
        endpoint = webhooks.create_endpoint(
            db, location_id=1, url="https://hooks.example/new", allow_private=True
        )
        feed = feeds.create_feed(db, location_id=1, name="New", metric="count")
        assert (counter.id, queue.id, endpoint.id, feed.feed.id) == (8, 6, 10, 7)
        assert feeds.build_report(db, feed.token).feed.id == 7
        # And rows are still found, changed and deleted by their id alone (the CLI's way).
        webhooks.enable_endpoint(db, 9)
        assert webhooks.list_endpoints(db, 2)[0].enabled
        occupancy.delete_counter(db, 3)
        occupancy.delete_queue(db, 2)
        webhooks.delete_endpoint(db, 4)
        feeds.revoke_feed_by_id(db, 1)
        assert [c.id for c in occupancy.list_counters(db)] == [7, 8]
        assert [q.id for q in occupancy.list_queues(db)] == [5, 6]
        assert [e.id for e in webhooks.list_endpoints(db)] == [9, 10]
        with pytest.raises(NotFoundError):
            feeds.build_report(db, FEED_TOKEN)
    finally:
        db.dispose()
