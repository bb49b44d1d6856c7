"""Schemathesis against the app's own /openapi.json, on both engines: every generated
request (valid and invalid, read API signed through an auth hook, ingest included) gets
an answer that is not a 5xx and matches the app's own schema."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import RunningServer, Site
from tests.helpers import event, ok, post_events, put_config

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION_AND_MODE = 60


class FootfallAuth(requests.auth.AuthBase):
    """Adds what an integrator's client adds: a fresh nonce and the X-Sign of the final URI
    (read API), or the bearer token (ingest)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.nonces = itertools.count(time.time_ns() // 1000)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        assert request.url is not None
        parts = urlsplit(request.url)
        if parts.path.startswith("/ingest/"):
            request.headers["Authorization"] = f"Bearer {self.site.ingest_token}"
            return request
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "nonce"]
        query.insert(0, ("nonce", str(next(self.nonces))))
        request.url = urlunsplit(parts._replace(query=urlencode(query)))
        uri = request.path_url
        request.headers["X-Key"] = self.site.public_key
        request.headers["X-Sign"] = hmac.new(
            self.site.secret.encode(), uri.encode(), hashlib.sha512
        ).hexdigest()
        return request


def test_generated_requests_never_get_5xx_or_off_schema_answers(
    server: RunningServer, http: httpx.Client, site: Site
) -> None:
    put_config(http, site.ingest_token)
    ok(post_events(http, site.ingest_token, [event(i) for i in range(1, 50)]))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    session = requests.Session()
    session.auth = FootfallAuth(site)
    sent: list[Any] = []
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the app's own schema must be valid
        operations.append(result.ok())
    assert {op.path for op in operations} >= {
        "/service/api/v1/events",
        "/service/api/v1/histograms",
        "/ingest/v1/events",
        "/ingest/v1/config",
    }
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case[Any]) -> None:
                sent.append(case)
                case.call_and_validate(base_url=server.url, session=session, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # Nothing of this operation can be made invalid (e.g. /healthz takes no input).
                assert mode == schemathesis.GenerationMode.NEGATIVE, operation.path
    print(f"schemathesis sent {len(sent)} requests")
    assert len(sent) >= 1000
