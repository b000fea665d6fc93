"""What the JavaScript ecosystem tests need around them: the pinned npm packages
(``tests/infra/node-deps.sh``), Debian's Chromium (``tests/infra/chromium.sh``), the server
their graphs run on, the Node test runner (one result per ``sdkTest``), the bundled test page
and a static server for it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.infra.scripts import install
from tests.support import create_api_key, dev_server, lg_deploy

JS = Path(__file__).resolve().parent
PROJECT = JS / "project" / "langgraph.json"
PAGE = JS / "page"
NODE_TIMEOUT_SECONDS = 300.0
INSTALL_TIMEOUT_SECONDS = 900.0
"""npm ci takes 10-30 s, an apt-get install of chromium 1-3 minutes; allow for slow mirrors."""

TARGET_ENV = "LG_DEPLOY_JS_TARGET"
"""Set to a server URL to run the tests against it (the official ``langgraph dev`` on
``project/langgraph.json``, to check an expectation) instead of a fresh ``lg-deploy dev``."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these three, Chromium's own background connections are refused by a closed
    # network and slow every page down
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Flags of headless Debian Chromium here (Playwright adds a fresh ``--user-data-dir``)."""


@dataclass(frozen=True)
class NodeDeps:
    """The installed npm packages: their folder and the esbuild binary."""

    node_modules: Path
    esbuild: Path


def node_deps() -> NodeDeps:
    """Install (first use) or find the pinned npm packages; also links them as
    ``tests/ecosystem/js/node_modules`` so Node resolves the tests' imports."""
    paths = install("node-deps.sh", INSTALL_TIMEOUT_SECONDS)
    return NodeDeps(Path(paths["node_modules"]), Path(paths["esbuild"]))


def chromium() -> Path:
    """Debian's Chromium binary, installed with apt-get when missing (needs root)."""
    return Path(install("chromium.sh", INSTALL_TIMEOUT_SECONDS)["chromium"])


@contextmanager
def graph_server(prefix: str, model_env: dict[str, str]) -> Iterator[str]:
    """URL of a server on ``project/langgraph.json``: ``lg-deploy dev`` with its own embedded
    PostgreSQL and ``model_env`` (the model stub's ``OPENAI_*``), stopped on exit; or the
    server named by :data:`TARGET_ENV`."""
    target = os.environ.get(TARGET_ENV)
    if target:
        yield target.rstrip("/")
        return
    with dev_server(prefix, config=PROJECT, env=model_env) as server:
        yield server.url


SDK_KEY_ENV = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
"""Where the JS SDK looks for a key when a ``Client`` gets no ``apiKey`` (``getApiKey``); kept
out of Node's environment so a developer's own key never reaches the server under test."""


def sdk_cases(test_file: Path) -> list[str]:
    """The names of the ``sdkTest("…")`` cases of a node test file, in order."""
    return re.findall(r'^sdkTest\(\s*"([^"]+)"', test_file.read_text(), re.MULTILINE)


@dataclass
class NodeRun:
    """What one ``node --test`` run reported: case name → its JSON line (``js/reporter.mjs``),
    and the spec reporter's text (stderr) for cases that never reported."""

    results: dict[str, dict[str, Any]]
    output: str

    def check(self, case: str) -> None:
        """Assert that ``case`` reported and passed (else its error, with the non-2xx
        exchanges it caused, or Node's output when it never reported)."""
        result = self.results.get(case)
        assert result is not None, f"node did not report {case!r}:\n{self.output}"
        assert result["ok"], result["error"]


def run_node_tests(test_file: Path, env: dict[str, str], out: Path) -> NodeRun:
    """Run every case of ``test_file`` once with ``node --test`` in ``js/`` (``env`` added to
    the environment, without :data:`SDK_KEY_ENV`); ``out`` receives the JSON lines."""
    base = {k: v for k, v in os.environ.items() if k not in SDK_KEY_ENV}
    proc = subprocess.run(
        [
            "node",
            "--test",
            "--test-reporter=spec",
            "--test-reporter-destination=stderr",
            f"--test-reporter={JS / 'reporter.mjs'}",
            f"--test-reporter-destination={out}",
            str(test_file),
        ],
        cwd=JS,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    lines = out.read_text().splitlines() if out.exists() else []
    return NodeRun({r["name"]: r for r in map(json.loads, lines)}, proc.stderr + proc.stdout)


KEYS: dict[str, tuple[str, str]] = {
    "a": ("acme", "developer"),
    "a_developer2": ("acme", "developer"),
    "a_operator": ("acme", "operator"),
    "a_viewer": ("acme", "viewer"),
    "b": ("globex", "developer"),
}
"""The API keys of :func:`keyed_server`: who → (tenant, role). Two tenants, neither the
``default`` one."""


@dataclass(frozen=True)
class KeyedServer:
    """A running :func:`keyed_server`: its URL and its API keys by :data:`KEYS` name."""

    url: str
    keys: dict[str, str]


@contextmanager
def keyed_server(prefix: str, model_env: dict[str, str]) -> Iterator[KeyedServer]:
    """``lg-deploy dev`` on ``project/langgraph.json`` (``model_env`` as for
    :func:`graph_server`) requiring an API key on every request from the start
    (``LG_DEPLOY_REQUIRE_API_KEY``, as the Helm chart sets it), with the tenants and keys of
    :data:`KEYS` made while it runs by ``lg-deploy tenants create`` and ``lg-deploy keys
    create``, as a user makes them; stopped on exit."""
    env = model_env | {"LG_DEPLOY_REQUIRE_API_KEY": "true"}
    with dev_server(prefix, config=PROJECT, env=env) as server:
        for tenant in sorted({tenant for tenant, _ in KEYS.values()}):
            done = lg_deploy(server.data_dir, "tenants", "create", tenant)
            assert done.returncode == 0, done.stderr
        keys = {
            who: create_api_key(server.data_dir, tenant, role, who)
            for who, (tenant, role) in KEYS.items()
        }
        yield KeyedServer(server.url, keys)


def build_page(deps: NodeDeps, out: Path) -> Path:
    """Bundle ``page/app.jsx`` (React, useStream) with esbuild into ``out`` beside
    ``page/index.html``; returns ``out``. RuntimeError with esbuild's output on failure."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(PAGE / "index.html", out / "index.html")
    proc = subprocess.run(
        [
            str(deps.esbuild),
            str(PAGE / "app.jsx"),
            "--bundle",
            "--format=esm",
            "--jsx=automatic",
            "--target=chrome120",
            '--define:process.env.NODE_ENV="production"',
            "--log-level=warning",
            f"--outfile={out / 'app.js'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"esbuild failed:\n{proc.stderr}{proc.stdout}")
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test's output."""


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free loopback port (its own origin, so the page calls
    the server cross-origin); yields the base URL, stops on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
