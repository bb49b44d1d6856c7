"""Schemathesis against the running server's own /openapi.json, on both engines, with every
check it has: no 5xx, answers and headers as documented, valid-by-the-document requests
accepted, invalid ones refused with a 4xx in the documented envelope; then its stateful
phase (sequences through the document's links).

The read API is signed as an integrator's client signs: a fresh, strictly increasing
nonce and the X-Sign of the URI exactly as sent (a generated nonce that the document
calls invalid is sent as it is: the server must refuse it). The ingest API gets the
location's bearer token. What no JSON Schema can say (an events batch names triggers the
agent declared, at times near now; a declaration's ids are unique) is given to the valid
ingest cases by `_declared`, as a client that knows the location would; the invalid ones
are sent as generated. The throttle is off (a rate limit of 0), so every case is answered.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CHECKS
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok

from footfall.domain.read_params import parse_nonce
from footfall.domain.vocabulary import EVENT_TYPES_BY_TRIGGER_TYPE
from tests.conftest import RunningServer, Site
from tests.helpers import STORE_CONFIG, event, heartbeats, ok, post_events, post_heartbeats
from tests.helpers import put_config as declare

pytestmark = pytest.mark.slow

EXAMPLES = 40  # per operation and mode: a few minutes per engine on 2 cores
STATEFUL_STEPS = 30
_TRIGGERS = [
    (trigger["id"], channel["id"], trigger["type"])
    for channel in STORE_CONFIG["channels"]
    for trigger in channel["triggers"]
]


class Credentials:
    """The location's credentials as schemathesis knows them (so its auth checks can take
    them away): the bearer token (ingest), the public key (read API)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def get(self, case: schemathesis.Case[Any], ctx: Any) -> Site:
        return self.site

    def set(self, case: schemathesis.Case[Any], site: Site, ctx: Any) -> None:
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
            return  # the credentials themselves are the invalid part: sent as generated
        headers = CaseInsensitiveDict(case.headers or {})
        if case.operation.path.startswith("/ingest/"):
            headers["Authorization"] = f"Bearer {site.ingest_token}"
        else:
            headers["X-Key"] = site.public_key
        case.headers = headers


class Signing(requests.auth.AuthBase):
    """What an integrator's client does last, on the request as it leaves: for a request
    carrying the real key, a fresh nonce (unless the generated one is invalid: the server
    must refuse that) and the X-Sign of the URI exactly as sent."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.nonces = itertools.count(time.time_ns() // 1000)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        assert request.url is not None
        parts = urlsplit(request.url)
        if request.headers.get("X-Key") != self.site.public_key:
            return request  # no or another key: sent as it is, and refused
        query = parse_qsl(parts.query, keep_blank_values=True)
        nonces = [v for k, v in query if k == "nonce"]
        if len(nonces) == 1 and parse_nonce(nonces[0]) is not None:
            query = [(k, str(next(self.nonces)) if k == "nonce" else v) for k, v in query]
        request.url = urlunsplit(parts._replace(query=urlencode(query)))
        request.headers["X-Sign"] = hmac.new(
            self.site.secret.encode(), request.path_url.encode(), hashlib.sha512
        ).hexdigest()
        return request


def _recent(seconds_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds")


def _declared_events(body: list[Any]) -> list[Any]:
    out = []
    for index, item in enumerate(body):
        trigger, channel, kind = _TRIGGERS[index % len(_TRIGGERS)]
        types = sorted(EVENT_TYPES_BY_TRIGGER_TYPE[kind])
        out.append(
            {
                **item,
                "trigger_id": trigger,
                "channel_id": channel,
                "event_type": types[index % len(types)],
                "event_time": _recent(60 + index),
            }
        )
    return out


def _declared_config(body: dict[str, Any]) -> dict[str, Any]:
    """Ids made unique (a declaration's rule) and the store's own channels kept declared."""
    channels = []
    for ci, channel in enumerate(body.get("channels", [])):
        triggers = (
            [{**t, "id": f"f{ci}.{ti}-{t['id']}"[:64]} for ti, t in enumerate(channel["triggers"])]
            if "triggers" in channel
            else []
        )
        channels.append({**channel, "id": f"f{ci}-{channel['id']}"[:64], "triggers": triggers})
    return {**body, "timezone": None, "channels": [*channels, *STORE_CONFIG["channels"]]}


def _declared(case: schemathesis.Case[Any]) -> None:
    """Give a valid ingest case what the location's state requires (see the docstring)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    path, body = case.operation.path, cast(Any, case.body)
    if path == "/ingest/v1/events" and isinstance(body, list):
        case.body = _declared_events(body)
    elif path == "/ingest/v1/config" and isinstance(body, dict):
        case.body = _declared_config(body)
    elif path == "/ingest/v1/heartbeat" and isinstance(body, dict):
        beats = body.get("channels", [])
        case.body = {
            **body,
            "channels": [
                {**b, "id": ("cam-door", "cam-floor")[i % 2], "at": _recent(30 + i)}
                for i, b in enumerate(beats)
            ],
        }


def _seed(http: httpx.Client, site: Site) -> None:
    declare(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 50)]))
    now = datetime.now(UTC)
    beats = heartbeats("cam-door", now - timedelta(hours=3), now - timedelta(minutes=1))
    assert post_heartbeats(http, site.ingest_token, beats).status_code == 200


def _fuzz(operation: Any, url: str, session: requests.Session, tally: Counter[str]) -> list[str]:
    failures: list[str] = []
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case[Any]) -> None:
            _declared(case)
            tally["cases"] += 1
            case.call_and_validate(base_url=url, session=session)

        try:
            run()
        except Unsatisfiable:
            # Nothing of this operation can be made invalid (it takes no input).
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.path
        except (Exception, BaseExceptionGroup) as failure:  # reported and asserted below
            failures.append(f"{operation.label} ({mode.value}): {failure}")
    return failures


def _stateful(schema: Any, url: str, session: requests.Session, tally: Counter[str]) -> None:
    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case[Any]) -> None:
            _declared(case)
            tally["stateful calls"] += 1

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"base_url": url, "session": session}

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            stateful_step_count=6,
        )
    )


def test_the_document_is_what_the_server_does(
    server: RunningServer, http: httpx.Client, site: Site, engine: str
) -> None:
    _seed(http, site)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")

    class SiteCredentials(Credentials):
        def __init__(self) -> None:
            super().__init__(site)

    schema.auth(refresh_interval=None, retry_on=[])(SiteCredentials)
    session = requests.Session()
    session.auth = Signing(site)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the app's own document must be valid
        operation = result.ok()
        if operation.path.startswith(("/service/", "/ingest/")):
            operations.append(operation)
    assert len(operations) == 13
    tally: Counter[str] = Counter()
    failures = [f for op in operations for f in _fuzz(op, server.url, session, tally)]
    try:
        _stateful(schema, server.url, session, tally)
    except (Exception, BaseExceptionGroup) as failure:  # reported and asserted below
        failures.append(f"stateful phase: {failure}")
    print(
        f"\nschemathesis on {engine}: {len(operations)} operations, {tally['cases']} cases, "
        f"{tally['stateful calls']} stateful calls, checks: {', '.join(CHECKS.get_all_names())}; "
        f"{len(failures)} failures"
    )
    assert not failures, "\n\n".join(failures)
    assert tally["cases"] >= 13 * EXAMPLES
