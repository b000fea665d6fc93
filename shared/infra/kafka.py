"""A local single-node Apache Kafka (KRaft) driven by the packaged ``kafka.sh``.

``kafka.sh`` (package data next to this module) does the work: Maven Central jars cached once,
storage formatted once, one broker + controller on 127.0.0.1 in its own session, idempotent
start and stop. This module runs it and adds a client-level readiness check, so that
``start()`` returns only when an aiokafka admin client can list topics.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

SCRIPT = Path(__file__).with_name("kafka.sh")
"""The start/stop/status script (package data of ``shared.infra``)."""
PID_FILE = "kafka.pid"
"""The broker's pid, under the instance folder."""
LOG_FILE = Path("logs") / "server.out"
"""The broker's output (log4j2 at WARN), under the instance folder."""


class LocalKafka:
    """One Kafka instance: the folder ``dir`` (config, data, logs, pid) and its client port.

    ``port`` is the PLAINTEXT listener on 127.0.0.1; ``controller_port`` the KRaft controller
    listener (None: the one stored in ``dir`` from an earlier start, else ``port + 1``);
    ``owner_pid``: every broker this object starts stops by itself once that process exits
    (test sessions). Stopping and starting again on the same ``dir`` keeps topics and committed
    offsets. From async code, call the blocking methods through ``asyncio.to_thread``.
    """

    def __init__(
        self,
        dir: Path,
        port: int = 9092,
        controller_port: int | None = None,
        owner_pid: int | None = None,
    ) -> None:
        self.dir = dir
        self.port = port
        self.controller_port = controller_port
        self.owner_pid = owner_pid

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers string, ``"127.0.0.1:<port>"``."""
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The broker's log file, ``<dir>/logs/server.out``."""
        return self.dir / LOG_FILE

    def start(self, timeout: float = 180.0) -> str:
        """Start the broker unless it already runs; return :attr:`bootstrap` once it serves.

        The first start on a machine downloads the jars with ``mvn`` (about 20 s here).

        Raises:
            RuntimeError: ``java``/``mvn`` missing, a port in use, the broker not starting or
                not answering an admin request within ``timeout`` seconds; the message carries
                the script's output and names :attr:`log`.
        """
        deadline = time.monotonic() + timeout
        args = ["--port", str(self.port), "--timeout", str(int(timeout))]
        if self.controller_port is not None:
            args += ["--controller-port", str(self.controller_port)]
        if self.owner_pid is not None:
            args += ["--owner-pid", str(self.owner_pid)]
        self._script("start", *args, timeout=timeout + 30)
        with ThreadPoolExecutor(1) as pool:  # a loop of its own, whether or not one runs here
            pool.submit(asyncio.run, self._wait_serving(deadline)).result()
        return self.bootstrap

    def stop(self) -> None:
        """Stop the broker (SIGTERM, SIGKILL after 20 s); no-op when it does not run.

        Raises:
            RuntimeError: the script failed (its output in the message).
        """
        self._script("stop", timeout=60)

    def running(self) -> bool:
        """Whether the broker process of :attr:`dir` lives and its port answers."""
        return self._run("status").returncode == 0

    def pid(self) -> int | None:
        """The broker's process id while it runs, else None."""
        pid_file = self.dir / PID_FILE
        return int(pid_file.read_text()) if self.running() and pid_file.exists() else None

    def _run(
        self, command: str, *args: str, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        # "bash": an installed wheel does not keep the script's executable bit.
        return subprocess.run(
            ["bash", str(SCRIPT), command, "--dir", str(self.dir), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _script(self, command: str, *args: str, timeout: float) -> None:
        try:
            done = self._run(command, *args, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"kafka.sh {command} took over {timeout}s; see {self.log}") from exc
        if done.returncode != 0:
            raise RuntimeError(
                f"kafka.sh {command} failed (exit {done.returncode}); broker log: {self.log}\n"
                f"{done.stderr.strip()}"
            )

    async def _wait_serving(self, deadline: float) -> None:
        error: Exception | None = None
        while time.monotonic() < deadline:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                await admin.list_topics()
                return
            except (KafkaError, OSError) as exc:
                error = exc
            finally:
                await admin.close()
            await asyncio.sleep(0.2)
        raise RuntimeError(f"Kafka on {self.bootstrap} does not serve: {error!r}; see {self.log}")
