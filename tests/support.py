"""Start and stop real ``lg-deploy`` processes for tests (no mocks: HTTP over loopback)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

ROOT = Path(__file__).resolve().parents[1]
TEST_GRAPHS = ROOT / "tests" / "graphs" / "langgraph.json"
EXAMPLES = ROOT / "examples" / "langgraph.json"
LG_DEPLOY = [sys.executable, "-m", "functions.cli"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive TCP ports all free on 127.0.0.1 now, for a process
    that takes a block (``lg-deploy up``: a port per function, then Kafka's two). Chosen below
    the kernel's ephemeral range (``ip_local_port_range``), where no outgoing connection takes
    one meanwhile, as one may with ports the kernel hands out (:func:`free_port`)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        first = random.randrange(10000, low - count)
        if all(_bindable(port) for port in range(first, first + count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports below {low}")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Server:
    """A running ``lg-deploy`` process (own process group) and where to reach it."""

    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path | None
    log: Path
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Send ``sig`` to the process group and wait; SIGKILL if it does not exit."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return int(self.proc.returncode)

    def kill_group(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def launch(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    port: int,
    data_dir: Path | None = None,
) -> Server:
    """Start ``args`` in a process group of its own, output appended to ``log``; the
    :class:`Server` it is to serve on ``port`` (not waited for)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(proc, port, data_dir, log, args)


def start(
    command: str = "dev",
    *,
    config: Path = TEST_GRAPHS,
    data_dir: Path | None = None,
    database_url: str | None = None,
    port: int | None = None,
    log: Path,
    env: dict[str, str] | None = None,
    wait: bool = True,
    extra: list[str] | None = None,
) -> Server:
    """Start ``lg-deploy <command>`` on a free port and wait until ``/ok`` answers (not for
    an executor: tests wait for its start line, which names its executor id)."""
    port = port or free_port()
    args = [*LG_DEPLOY, command, "--config", str(config), "--port", str(port)]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    if database_url is not None:
        args += ["--database-url", database_url]
    args += extra or []
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    server = launch(args, cwd=ROOT, env=full_env, log=log, port=port, data_dir=data_dir)
    if wait and command != "executor":
        wait_ready(server)
    return server


_EXECUTOR_ID = re.compile(r"lg-deploy executor (\S+) running")


def executor_id(server: Server, timeout: float = 60.0) -> str:
    """Wait for an executor's start line; the id it claims runs under. Raises with its log if
    it dies or does not start within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _EXECUTOR_ID.search(server.log_text())
        if found:
            return found.group(1)
        if server.proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"executor not ready:\n{server.log_text()}")


def wait_ready(server: Server, timeout: float = 60.0, functions: int = 1) -> None:
    """Poll ``/ok`` until it answers 200, on the server's port and, for ``lg-deploy up``, on
    the ports of its other ``functions - 1`` processes (each on the next port); raise with the
    server log if it dies or a port does not answer in time."""
    deadline = time.monotonic() + timeout
    for port in range(server.port, server.port + functions):
        while not answers(f"http://127.0.0.1:{port}/ok"):
            if server.proc.poll() is not None:
                code = server.proc.returncode
                raise RuntimeError(f"lg-deploy exited {code}:\n{server.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"lg-deploy not ready in {timeout}s:\n{server.log_text()}")
            time.sleep(0.1)


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a GET of ``url`` answers 200 within ``timeout`` seconds (False on any HTTP
    error: refused, timed out)."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def postgres_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder for embedded PostgreSQL data, removed on exit.

    Not under pytest's ``tmp_path``: PostgreSQL runs as another user when tests run as root,
    and every pytest session starting meanwhile resets ``/tmp/pytest-of-<user>`` to mode 0700,
    which locks that user out.
    """
    path = Path(tempfile.mkdtemp(prefix=f"lgd-{prefix}-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def dev_server(
    prefix: str, *, config: Path = TEST_GRAPHS, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``lg-deploy dev`` on ``config`` with its own embedded PostgreSQL (a fresh
    :func:`postgres_dir`), stopped and removed on exit."""
    with postgres_dir(prefix) as base:
        server = start(
            "dev", config=config, data_dir=base / "data", log=base / "server.log", env=env
        )
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def topology_server(prefix: str, *, config: Path = TEST_GRAPHS) -> Iterator[Server]:
    """``lg-deploy up`` on ``config`` (its own PostgreSQL and Kafka under a fresh
    :func:`postgres_dir`, two executors), ready when every function answers ``/ok``; stopped
    on exit."""
    executors = 2
    functions = executors + 4  # intake, the executors, cron, webhooks, builder (up.py plan)
    port = free_ports(functions + 2)  # then Kafka's listener and its controller's
    with postgres_dir(prefix) as base:
        server = start(
            "up",
            config=config,
            data_dir=base / "data",
            port=port,
            log=base / "server.log",
            extra=["--kafka-port", str(port + functions), "--executors", str(executors)],
            env={"LG_DEPLOY_CRON_TICK_SECONDS": "1"},
        )
        try:
            wait_ready(server, functions=functions)  # intake answered; the others may not yet
            yield server
        finally:
            server.stop()


def refused_start(config: Path, data_dir: Path) -> str:
    """Run ``lg-deploy dev`` on a ``config`` it must refuse and return its stderr, after
    checking that it stopped with exit code 2, no traceback, before PostgreSQL started (no
    ``data_dir``)."""
    done = subprocess.run(
        [*LG_DEPLOY, "dev", "--config", str(config), "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not data_dir.exists()
    return done.stderr


def lg_deploy(data_dir: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """``lg-deploy <args> --data-dir <data_dir>`` as a user runs it (e.g. ``keys create`` next
    to a running ``lg-deploy dev`` on that folder); its exit status and output."""
    return subprocess.run(
        [*LG_DEPLOY, *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def create_api_key(
    data_dir: Path | None, tenant: str = "default", role: str = "admin", name: str | None = None
) -> str:
    """A new API key made by ``lg-deploy keys create`` on ``data_dir``: the last line of its
    stdout (a deployment that had none requires keys within LG_DEPLOY_API_KEY_CACHE_SECONDS)."""
    named = ["--name", name] if name else []
    done = lg_deploy(data_dir, "keys", "create", "--tenant", tenant, "--role", role, *named)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@asynccontextmanager
async def sdk(server: Server) -> AsyncIterator[LangGraphClient]:
    """The official async client on ``server``, closed on exit."""
    client = get_client(url=server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def create_database(database_url: str, purpose: str) -> str:
    """A new empty database on the server at ``database_url`` (named after ``purpose``, made
    unique); its URI."""
    name = f"{purpose}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlsplit(database_url)._replace(path=f"/{name}").geturl()
