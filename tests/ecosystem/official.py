"""The official LangGraph dev server (``langgraph dev`` of ``langgraph-cli[inmem]``) on a
project, for comparing lg-deploy with it: installed by ``tests/infra/official-server.sh``
(pinned, cached), started on loopback with tracing and analytics off."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import ROOT, Server, free_port, launch, wait_ready

INSTALL = ROOT / "tests" / "infra" / "official-server.sh"
QUIET = {
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
}
"""No traces and no usage reports leave the machine."""

REPEATABLE = {"PYTHONHASHSEED": "0"}
"""One string-hash order for both servers: packages iterate sets (langgraph-supervisor builds its
handoff tools from a set of agent names), so tool order in drawings and model requests follows
the hash seed of the process."""


def official_venv() -> Path:
    """The official server's virtualenv, installed on first use (see the script)."""
    out = subprocess.run([str(INSTALL), "install"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@contextmanager
def official_server(
    project: Path, env: dict[str, str], config: str = "langgraph.json"
) -> Iterator[Server]:
    """``langgraph dev`` serving a copy of the folder ``project`` (its file ``config``) on
    a free loopback port, with ``env`` added to this process' environment; stopped on exit.

    It runs in the copy: the official server resolves ``store.index.embed`` file paths
    against its working folder and keeps its in-memory data under ``.langgraph_api`` there,
    so each start is fresh and the project stays clean."""
    venv = official_venv()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lgd-official-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(project, work, ignore=shutil.ignore_patterns(".langgraph_api"))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LANGSMITH_")}
        full_env.pop("VIRTUAL_ENV", None)
        full_env.pop("PYTHONPATH", None)
        full_env |= QUIET | REPEATABLE | env
        args = [str(venv / "bin" / "langgraph"), "dev", "--no-browser", "--no-reload"]
        args += ["--host", "127.0.0.1", "--port", str(port), "--config", config]
        server = launch(args, cwd=work, env=full_env, log=Path(tmp) / "server.log", port=port)
        try:
            wait_ready(server)
            yield server
        finally:
            server.stop()
