"""Fixtures of the ecosystem tests: the local OpenAI-compatible model server, the project of
graphs built from PyPI packages (``project/``) and the official server on it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ecosystem.official import QUIET, REPEATABLE, official_server
from tests.support import ROOT, Server, dev_server, free_port

PROJECT = Path(__file__).parent / "project"
"""The project: ``langgraph.json`` and graphs built from PyPI packages (see the README)."""


@dataclass
class LlmStub:
    """A running :mod:`tests.ecosystem.llm_stub`; ``env`` points OpenAI clients at it."""

    url: str

    @property
    def env(self) -> dict[str, str]:
        """Environment for a server whose graphs call OpenAI: base URL and a dummy key."""
        return {"OPENAI_BASE_URL": self.url + "/v1", "OPENAI_API_KEY": "sk-stub"}

    def requests(self) -> list[dict[str, Any]]:
        """Every chat completion request received so far, oldest first."""
        return list(httpx.get(self.url + "/_requests").json())

    def requests_mentioning(self, text: str) -> list[dict[str, Any]]:
        """The chat requests one of whose messages contains ``text``, oldest first."""
        return [r for r in self.requests() if text in json.dumps(r.get("messages"))]


@pytest.fixture(scope="session")
def llm_stub() -> Iterator[LlmStub]:
    """The model stub on a free port for the whole session."""
    with running_llm_stub() as stub:
        yield stub


@contextmanager
def running_llm_stub() -> Iterator[LlmStub]:
    """:mod:`tests.ecosystem.llm_stub` on a free port, ready when it answers; stopped on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ecosystem.llm_stub", "--port", str(port)], cwd=ROOT
    )
    stub = LlmStub(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(stub.url + "/v1/models", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield stub
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def official(llm_stub: LlmStub) -> Iterator[Server]:
    """The official ``langgraph dev`` on :data:`PROJECT`, its models on :func:`llm_stub`, for
    the whole session (started when first asked for)."""
    with official_server(PROJECT, llm_stub.env) as server:
        yield server


@pytest.fixture(scope="module")
def lg_deploy(llm_stub: LlmStub) -> Iterator[Server]:
    """``lg-deploy dev`` on :data:`PROJECT`, its models on :func:`llm_stub`; one per test
    module."""
    with dev_server(
        "eco", config=PROJECT / "langgraph.json", env=llm_stub.env | QUIET | REPEATABLE
    ) as srv:
        yield srv
