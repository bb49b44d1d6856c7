"""Node's `fetch` sends what the WHATWG URL parser makes of a URL: a `'` in the query
becomes `%27`. A signature over the text the caller wrote then fails; one over the parsed
URL's `pathname + search` (what docs/api.md says to sign) is accepted."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.conftest import RunningServer, Site
from tests.helpers import put_config
from tests.needs import require

FETCH_JS = """
const Crypto = require('crypto');
const [base, uri, key, secret, mode] = process.argv.slice(1);
const url = new URL(base + uri);
// 'as-sent': sign what fetch will send; 'as-written': sign the caller's own text.
const signed = mode === 'as-sent' ? url.pathname + url.search : uri;
const sign = Crypto.createHmac('sha512', secret).update(signed).digest('hex');
fetch(url, {headers: {'X-Key': key, 'X-Sign': sign}})
  .then(async (answer) => console.log(JSON.stringify({status: answer.status, sent: url.pathname + url.search, body: await answer.json()})));
"""

CONFIG = {
    "version": "1",
    "channels": [
        {
            "id": "o'brien-door",
            "name": "O'Brien's door",
            "triggers": [{"id": "t-in", "name": "In", "type": "Line"}],
        }
    ],
}


def _node() -> str:
    found = shutil.which("node")
    require(found, "node is missing: apt-get install nodejs")
    assert found is not None
    return found


def test_sign_what_fetch_sends(server: RunningServer, site: Site) -> None:
    node = _node()
    import httpx

    with httpx.Client(base_url=server.url) as http:
        put_config(http, site.ingest_token, CONFIG)

    def call(nonce: int, mode: str) -> dict[str, object]:
        uri = f"/service/api/v1/triggers?nonce={nonce}&channel_id=o'brien-door"
        done = subprocess.run(
            [node, "-e", FETCH_JS, server.url, uri, site.public_key, site.secret, mode],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        answer: dict[str, object] = json.loads(done.stdout)
        return answer

    written = call(10, "as-written")
    assert written["status"] == 401  # signed "o'brien", sent "o%27brien"
    assert "%27" in str(written["sent"])
    sent = call(11, "as-sent")
    assert sent["status"] == 200, sent
    body = sent["body"]
    assert isinstance(body, dict)
    assert [t["id"] for t in body["result"]] == ["t-in"]
