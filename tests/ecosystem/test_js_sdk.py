"""The official JS SDK (``@langchain/langgraph-sdk``, pinned in tests/ecosystem/js) in Node
against ``lg-deploy dev``: threads, ``runs.stream`` with four stream modes, resumable streams
joined with ``lastEventId``, interrupts resumed with ``command``, ``runs.wait``, cancel.

The cases live in ``js/sdk.test.mjs``; Node's test runner runs them all once against one
server and ``js/reporter.mjs`` writes a JSON line per case, which becomes one pytest case here
(its failure shows the SDK's assertion and every non-2xx exchange it caused).
"""

from __future__ import annotations

import pytest

from tests.ecosystem.conftest import LlmStub
from tests.ecosystem.js.support import (
    JS,
    NodeRun,
    graph_server,
    node_deps,
    run_node_tests,
    sdk_cases,
)

SDK_TESTS = JS / "sdk.test.mjs"
CASES = sdk_cases(SDK_TESTS)


@pytest.fixture(scope="module")
def node_run(llm_stub: LlmStub, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    """Every case of ``sdk.test.mjs`` run once against a fresh server."""
    node_deps()
    out = tmp_path_factory.mktemp("node") / "results.jsonl"
    with graph_server("ecojs-sdk", llm_stub.env) as url:
        return run_node_tests(SDK_TESTS, {"LG_DEPLOY_URL": url}, out)


def test_every_case_is_collected() -> None:
    """The case list read from the .mjs file is not empty (a renamed helper would hide all)."""
    assert len(CASES) >= 8, CASES


@pytest.mark.parametrize("case", CASES)
def test_js_sdk(case: str, node_run: NodeRun) -> None:
    """One ``sdkTest`` of ``js/sdk.test.mjs`` passed in Node against lg-deploy."""
    node_run.check(case)
