"""Requests signed by the reference document's JavaScript example, run by Node, are
accepted: an integrator's existing code works by changing only the base URL."""

from __future__ import annotations

import shutil
import subprocess

import httpx

from tests.conftest import Site
from tests.helpers import event, ok, post_events, put_config
from tests.needs import require

# The reference example, verbatim but for the values it signs (read from argv).
REFERENCE_JS = """
const Crypto = require('crypto');
const [locationId, nonce, sinceRaw, secret] = process.argv.slice(1);
// if you use the since or/and until parameter. You should process it with encodeURIComponent function
const since = encodeURIComponent(sinceRaw);
const requestUri = '/service/api/v1/events?location_id=' + locationId + '&nonce=' + nonce + '&since=' + since;
const signature = Crypto.createHmac('sha512', secret).update(requestUri).digest('hex');
console.log(JSON.stringify({requestUri, signature}));
"""


def node_sign(location_id: int, nonce: int, since: str, secret: str) -> tuple[str, str]:
    import json

    done = subprocess.run(
        ["node", "-e", REFERENCE_JS, str(location_id), str(nonce), since, secret],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(done.stdout)
    return answer["requestUri"], answer["signature"]


def test_reference_javascript_signature_is_accepted(http: httpx.Client, site: Site) -> None:
    node = shutil.which("node")
    require(node, "no `node`: install Node.js (Debian's `nodejs`, which .ci/run installs)")
    put_config(http, site.ingest_token)
    ok(
        post_events(
            http,
            site.ingest_token,
            [event(1, when="2026-01-01T10:00:00Z"), event(2, when="2026-01-01T12:00:00Z")],
        )
    )
    uri, signature = node_sign(site.location_id, 154, "2026-01-01T12:00:00.000+01:00", site.secret)
    assert "%3A" in uri
    assert "%2B01%3A00" in uri
    answer = http.get(uri, headers={"X-Key": site.public_key, "X-Sign": signature})
    assert [e["record_id"] for e in ok(answer)] == [2]
    # The same request replayed is refused for its nonce, as the document says.
    assert (
        http.get(uri, headers={"X-Key": site.public_key, "X-Sign": signature}).json()["code"] == 3
    )
