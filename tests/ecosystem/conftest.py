"""Fixtures of the ecosystem tests: the local OpenAI-compatible model server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support import ROOT, free_port


@dataclass
class LlmStub:
    """A running :mod:`tests.ecosystem.llm_stub`; ``env`` points OpenAI clients at it."""

    url: str

    @property
    def env(self) -> dict[str, str]:
        """Environment for a server whose graphs call OpenAI: base URL and a dummy key."""
        return {"OPENAI_BASE_URL": self.url + "/v1", "OPENAI_API_KEY": "sk-stub"}

    def requests(self) -> list[dict[str, object]]:
        """Every chat completion request received so far."""
        return list(httpx.get(self.url + "/_requests").json())


@pytest.fixture(scope="session")
def llm_stub() -> Iterator[LlmStub]:
    """The model stub on a free port for the whole session."""
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
