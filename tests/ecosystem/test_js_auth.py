"""Auth through the official JS SDK (``@langchain/langgraph-sdk``) in Node against
``lg-deploy dev``: built-in API keys, tenants and roles (``js/keys.test.mjs``) and the docs'
custom auth examples served unchanged from ``tests/auth/project``
(``js/custom-auth-<project>.test.mjs``).

Each node file runs once against its own server (``run_node_tests`` of ``js/support.py``), and
each of its ``sdkTest`` cases is one pytest case here (its failure shows the SDK's assertion and
every non-2xx exchange it caused).
"""

from __future__ import annotations

import json
from collections.abc import Callable

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
KEYS_CASES = sdk_cases(KEYS_TESTS)

CUSTOM_AUTH: dict[str, str] = {
    "private": "langgraph.json",
    "scoped": "scoped.json",
    "permissions": "permissions.json",
}
"""Custom auth project → its config in ``tests/auth/project``; its cases are in
``js/custom-auth-<project>.test.mjs``."""

CUSTOM_AUTH_CASES = [
    pytest.param(project, case, id=f"{project}: {case}")
    for project in CUSTOM_AUTH
    for case in sdk_cases(JS / f"custom-auth-{project}.test.mjs")
]


@pytest.fixture(scope="module")
def keys_run(llm_stub: LlmStub, tmp_path_factory: pytest.TempPathFactory) -> NodeRun:
    """``keys.test.mjs`` run once against a server requiring keys, with two tenants."""
    node_deps()
    out = tmp_path_factory.mktemp("node") / "keys.jsonl"
    with keyed_server("ecojs-keys", llm_stub.env) as server:
        env = {"LG_DEPLOY_URL": server.url, "LG_DEPLOY_KEYS": json.dumps(server.keys)}
        return run_node_tests(KEYS_TESTS, env, out)


@pytest.fixture(scope="module")
def custom_auth_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], NodeRun]:
    """``custom_auth_run(project)``: ``custom-auth-<project>.test.mjs`` run once against
    ``lg-deploy dev`` on that project (each server runs only while its file runs)."""
    node_deps()
    runs: dict[str, NodeRun] = {}

    def run(project: str) -> NodeRun:
        if project not in runs:
            config = AUTH_PROJECT / CUSTOM_AUTH[project]
            out = tmp_path_factory.mktemp("node") / f"{project}.jsonl"
            with dev_server(f"ecojs-{project}", config=config, env=QUIET) as server:
                tests = JS / f"custom-auth-{project}.test.mjs"
                runs[project] = run_node_tests(tests, {"LG_DEPLOY_URL": server.url}, out)
        return runs[project]

    return run


def test_every_case_is_collected() -> None:
    """Every file's case list is filled (a renamed helper would hide all its cases)."""
    assert len(KEYS_CASES) >= 8, KEYS_CASES
    per_project = {p: len(sdk_cases(JS / f"custom-auth-{p}.test.mjs")) for p in CUSTOM_AUTH}
    assert min(per_project.values()) >= 2, per_project


@pytest.mark.parametrize("case", KEYS_CASES)
def test_js_keys(case: str, keys_run: NodeRun) -> None:
    """One ``sdkTest`` of ``js/keys.test.mjs`` passed in Node against a keyed lg-deploy."""
    keys_run.check(case)


@pytest.mark.parametrize(("project", "case"), CUSTOM_AUTH_CASES)
def test_js_custom_auth(project: str, case: str, custom_auth_run: Callable[[str], NodeRun]) -> None:
    """One ``sdkTest`` of ``js/custom-auth-<project>.test.mjs`` passed in Node against
    lg-deploy serving that docs' example."""
    custom_auth_run(project).check(case)
