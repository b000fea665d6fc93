"""Auth through the official JS SDK (``@langchain/langgraph-sdk``) in Node against
``lg-deploy dev``: built-in API keys, tenants and roles (``js/keys.test.mjs``) and the docs'
custom auth served unchanged (``js/custom-auth.test.mjs`` on ``tests/auth/project``).

Each node file runs once against its own server (``run_node_tests`` of ``js/support.py``), and
each of its ``sdkTest`` cases is one pytest case here (its failure shows the SDK's assertion and
every non-2xx exchange it caused).
"""

from __future__ import annotations

import json

import pytest

from tests.auth.scenarios import PROJECT as AUTH_PROJECT
from tests.ecosystem.conftest import LlmStub
from tests.ecosystem.js.support import (
    JS,
    NodeRun,
    keyed_server,
    node_deps,
    run_node_tests,
    sdk_cases,
)
from tests.ecosystem.official import QUIET
from tests.support import dev_server

KEYS_TESTS = JS / "keys.test.mjs"
CUSTOM_AUTH_TESTS = JS / "custom-auth.test.mjs"
KEYS_CASES = sdk_cases(KEYS_TESTS)
CUSTOM_AUTH_CASES = sdk_cases(CUSTOM_AUTH_TESTS)


@pytest.fixture(scope="module")
def keys_run(llm_stub: LlmStub, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    """``keys.test.mjs`` run once against a server requiring keys, with two tenants."""
    node_deps()
    out = tmp_path_factory.mktemp("node") / "keys.jsonl"
    with keyed_server("ecojs-keys", llm_stub.env) as server:
        env = {"LG_DEPLOY_URL": server.url, "LG_DEPLOY_KEYS": json.dumps(server.keys)}
        return run_node_tests(KEYS_TESTS, env, out)


@pytest.fixture(scope="module")
def custom_auth_run(tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    """``custom-auth.test.mjs`` run once against ``lg-deploy dev`` on the docs' "Make
    conversations private" project (``tests/auth/project/langgraph.json``)."""
    node_deps()
    out = tmp_path_factory.mktemp("node") / "custom-auth.jsonl"
    with dev_server("ecojs-auth", config=AUTH_PROJECT / "langgraph.json", env=QUIET) as server:
        return run_node_tests(CUSTOM_AUTH_TESTS, {"LG_DEPLOY_URL": server.url}, out)


def test_every_case_is_collected() -> None:
    """Both case lists read from the .mjs files are filled (a renamed helper would hide all)."""
    assert len(KEYS_CASES) >= 8, KEYS_CASES
    assert len(CUSTOM_AUTH_CASES) >= 6, CUSTOM_AUTH_CASES


@pytest.mark.parametrize("case", KEYS_CASES)
def test_js_keys(case: str, keys_run: NodeRun) -> None:
    """One ``sdkTest`` of ``js/keys.test.mjs`` passed in Node against a keyed lg-deploy."""
    keys_run.check(case)


@pytest.mark.parametrize("case", CUSTOM_AUTH_CASES)
def test_js_custom_auth(case: str, custom_auth_run: NodeRun) -> None:
    """One ``sdkTest`` of ``js/custom-auth.test.mjs`` passed in Node against lg-deploy serving
    the docs' custom auth."""
    custom_auth_run.check(case)
