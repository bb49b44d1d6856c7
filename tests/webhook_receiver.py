"""A real webhook receiver for the tests: an HTTP server on loopback that records every
request and answers as it is told (status, Retry-After, a delay, a body trickled a byte
at a time), or refuses connections while stopped; and an independent check of the
Standard Webhooks signature. (`footfall bench` has its own, plainer one.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from footfall.benchmarks.harness import free_port

__all__ = ["Answer", "Received", "Receiver", "verify_standard_webhook"]


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the request arrived
    finished: float  # when the answer was sent
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay: float = 0.0
    retry_after: str | None = None
    # Seconds between the bytes of a 32-byte body sent after the headers: a slow
    # receiver that a per-read timeout never catches (0: an empty body at once).
    trickle: float = 0.0


def verify_standard_webhook(secret: str, received: Received) -> bool:
    """The Standard Webhooks check, written independently of footfall.domain.webhooks."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = (
        f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode()
        + received.body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in received.headers["webhook-signature"].split()]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many dispatcher connections at once
    daemon_threads = True


class Receiver:
    """`answer(n)` decides the answer to the n-th request (0-based); 200 by default."""

    def __init__(self, answer: Callable[[int], Answer] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.answer = answer or (lambda _n: Answer())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    number = len(receiver.received) + len(receiver._in_flight)
                    receiver._in_flight.append(number)
                answer = receiver.answer(number)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    if answer.retry_after is not None:
                        self.send_header("Retry-After", answer.retry_after)
                    body_out = b"." * 32 if answer.trickle else b""
                    self.send_header("Content-Length", str(len(body_out)))
                    self.end_headers()
                    for byte in body_out:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(answer.trickle)
                except OSError:
                    pass  # the client gave up (a timeout test)
                with receiver._lock:
                    receiver._in_flight.remove(number)
                    receiver.received.append(
                        Received(
                            arrived,
                            time.monotonic(),
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            answer.status,
                        )
                    )

            def log_message(self, *_: Any) -> None:
                pass

        self._in_flight: list[int] = []
        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                snapshot = list(self.received)
            if condition(snapshot):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met; got {len(snapshot)} requests")
            time.sleep(0.02)

    def events(self) -> list[dict[str, Any]]:
        """Every event received in 2xx-answered deliveries (kind events)."""
        with self._lock:
            ok = [r for r in self.received if 200 <= r.status < 300]
        return [event for r in ok for event in r.json]
