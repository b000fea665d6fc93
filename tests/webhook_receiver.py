"""A scripted webhook receiver on 127.0.0.1 and a ``langgraph.json`` that allows it.

The receiver records every request (path, headers, raw body) and answers each path from a
script: a status code, :class:`Redirect`, or :data:`HANG` (hold the request until the
receiver closes); the script's last reply repeats (200 for a path without a script).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support import ROOT

SECRET = "lg-deploy-test-signing-secret"
SECRET_ENV = {"LG_WEBHOOK_TEST_SECRET": SECRET}
"""Environment of a server on :func:`write_project`'s config: its signing secret."""
HANG = "hang"


@dataclass(frozen=True)
class Redirect:
    """Answer 302 to ``location``."""

    location: str


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    """Every header line as sent: names in their case, repeated names repeated."""
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)

    def signature_ok(self, secret: str = SECRET) -> bool:
        """Standard Webhooks check, written independently of lg-deploy's signer."""
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode()
        mac = hmac.new(secret.encode(), signed + self.body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(mac).decode()
        return any(
            hmac.compare_digest(expected, s) for s in self.headers["webhook-signature"].split()
        )


class Receiver:
    """The running receiver; use :func:`receiver`."""

    def __init__(self) -> None:
        self.script: dict[str, list[int | Redirect | str]] = {}
        self.received: list[Received] = []
        self.hanging = threading.Event()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """``http://127.0.0.1:<port><path>``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def reply(self, path: str, *replies: int | Redirect | str) -> None:
        """Answer the next requests to ``path`` with ``replies``, in order."""
        self.script[path] = list(replies)

    def at(self, path: str) -> list[Received]:
        """The requests received at ``path`` so far."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                raw = list(self.headers.items())
                headers = {k.lower(): v for k, v in raw}
                with receiver._lock:
                    receiver.received.append(
                        Received(self.command, self.path, headers, body, raw_headers=raw)
                    )
                    script = receiver.script.get(self.path) or [200]
                    reply = script.pop(0) if len(script) > 1 else script[0]
                if reply == HANG:
                    receiver.hanging.set()
                    receiver.closing.wait(120)
                    return
                if isinstance(reply, Redirect):
                    self.send_response(302)
                    self.send_header("location", reply.location)
                else:
                    self.send_response(int(reply))
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = _serve
            do_GET = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A started :class:`Receiver`, shut down on exit (hanging requests released)."""
    r = Receiver()
    r._thread.start()
    try:
        yield r
    finally:
        r.closing.set()
        r._server.shutdown()
        r._server.server_close()


def write_project(folder: Path, **delivery: Any) -> Path:
    """A ``langgraph.json`` in ``folder`` with the test graphs ``echo`` and ``fail`` and a
    ``webhooks`` section allowing loopback receivers, signed with :data:`SECRET`;
    ``delivery`` overrides the short test delivery options."""
    graphs = ROOT / "tests" / "graphs"
    config = {
        "dependencies": [str(graphs)],
        "graphs": {name: f"{graphs / 'graphs.py'}:{name}" for name in ("echo", "fail")},
        "webhooks": {
            "url": {"disable_loopback": False, "require_https": False},
            "signing_secret": "${{ env.LG_WEBHOOK_TEST_SECRET }}",
            "delivery": {
                "retry": {"max_attempts": 3, "initial_delay_seconds": 0.2},
                "timeout_seconds": 5,
                "lease_seconds": 10,
                **delivery,
            },
        },
    }
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path
