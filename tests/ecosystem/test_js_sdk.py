"""The official JS SDK (``@langchain/langgraph-sdk``, pinned in tests/ecosystem/js) in Node
against ``lg-deploy dev``: threads, ``runs.stream`` with four stream modes, resumable streams
joined with ``lastEventId``, interrupts resumed with ``command``, ``runs.wait``, cancel.

The cases live in ``js/sdk.test.mjs``; Node's test runner runs them all once against one
server and ``js/reporter.mjs`` writes a JSON line per case, which becomes one pytest case here
(its failure shows the SDK's assertion and every non-2xx exchange it caused).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ecosystem.conftest import LlmStub
from tests.ecosystem.js.support import JS, graph_server, node_deps

SDK_TESTS = JS / "sdk.test.mjs"
CASES = re.findall(r'^sdkTest\(\s*"([^"]+)"', SDK_TESTS.read_text(), re.MULTILINE)
NODE_TIMEOUT_SECONDS = 300.0


@dataclass
class NodeRun:
    """What one ``node --test`` run reported: case name → its JSON line, and the spec
    reporter's text (stderr) for cases that never reported."""

    results: dict[str, dict[str, Any]]
    output: str


@pytest.fixture(scope="module")
def node_run(llm_stub: LlmStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRun]:
    """Every case of ``sdk.test.mjs`` run once against a fresh server."""
    node_deps()
    out: Path = tmp_path_factory.mktemp("node") / "results.jsonl"
    with graph_server("ecojs-sdk", llm_stub.env) as url:
        proc = subprocess.run(
            [
                "node",
                "--test",
                "--test-reporter=spec",
                "--test-reporter-destination=stderr",
                f"--test-reporter={JS / 'reporter.mjs'}",
                f"--test-reporter-destination={out}",
                str(SDK_TESTS),
            ],
            cwd=JS,
            env={**os.environ, "LG_DEPLOY_URL": url},
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
    lines = out.read_text().splitlines() if out.exists() else []
    results = {r["name"]: r for r in map(json.loads, lines)}
    yield NodeRun(results, proc.stderr + proc.stdout)


def test_every_case_is_collected() -> None:
    """The case list read from the .mjs file is not empty (a renamed helper would hide all)."""
    assert len(CASES) >= 8, CASES


@pytest.mark.parametrize("case", CASES)
def test_js_sdk(case: str, node_run: NodeRun) -> None:
    """One ``sdkTest`` of ``js/sdk.test.mjs`` passed in Node against lg-deploy."""
    result = node_run.results.get(case)
    assert result is not None, f"node did not report {case!r}:\n{node_run.output}"
    assert result["ok"], result["error"]
