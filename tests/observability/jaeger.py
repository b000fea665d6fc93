"""A real Jaeger v2 (``tests/infra/observability-tools.sh``) as the OTLP endpoint of a test, and
reading traces back from its query API.

Jaeger v2 is an OpenTelemetry Collector distribution: the config below has the OTLP/HTTP
receiver, in-memory storage and the query extension, each on a free loopback port (its own
metrics and traces off: nothing else listens or sends). Traces are read from the query
service's HTTP API (``/api/traces``: the JSON the Jaeger UI reads; ``references`` are
``CHILD_OF`` for a parent and ``FOLLOWS_FROM`` for a span link).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.infra.scripts import install
from tests.support import free_port

CONFIG = """
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    traces:
      level: none
    logs:
      level: warn
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp}
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    grpc:
      endpoint: 127.0.0.1:{grpc}
    http:
      endpoint: 127.0.0.1:{query}
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


@dataclass(frozen=True)
class Span:
    """One span as Jaeger returns it."""

    trace_id: str
    span_id: str
    name: str
    service: str
    parent: str | None
    """The ``CHILD_OF`` reference's span id."""
    links: tuple[str, ...]
    """Span ids of the ``FOLLOWS_FROM`` references (span links)."""
    tags: dict[str, Any]
    events: tuple[dict[str, Any], ...] = ()
    """The span's events (Jaeger's ``logs``): each one's fields, its name under ``event``."""


@dataclass(frozen=True)
class Jaeger:
    """A running Jaeger: ``otlp`` is the ``OTEL_EXPORTER_OTLP_ENDPOINT`` to send to."""

    otlp: str
    query: str

    @property
    def env(self) -> dict[str, str]:
        """Environment of a process exporting its traces here at once (100 ms batches)."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp, "OTEL_BSP_SCHEDULE_DELAY": "100"}

    def trace_ids(self, service: str, **tags: str) -> list[str]:
        """Ids of the traces with a span of ``service`` having ``tags`` (the last hour)."""
        params = {"service": service, "tags": json.dumps(tags), "lookback": "1h", "limit": "100"}
        response = httpx.get(f"{self.query}/api/traces", params=params, timeout=10)
        response.raise_for_status()
        return sorted({t["traceID"] for t in response.json()["data"] or []})

    def spans(self, trace_id: str) -> list[Span]:
        """Every span stored of trace ``trace_id``, oldest first (none when it is unknown)."""
        response = httpx.get(f"{self.query}/api/traces/{trace_id}", timeout=10)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        found: list[Span] = []
        for data in response.json()["data"]:
            services = {k: p["serviceName"] for k, p in data["processes"].items()}
            for s in sorted(data["spans"], key=lambda s: s["startTime"]):
                refs = s["references"]
                parents = [r["spanID"] for r in refs if r["refType"] == "CHILD_OF"]
                found.append(
                    Span(
                        trace_id=s["traceID"],
                        span_id=s["spanID"],
                        name=s["operationName"],
                        service=services[s["processID"]],
                        parent=parents[0] if parents else None,
                        links=tuple(r["spanID"] for r in refs if r["refType"] == "FOLLOWS_FROM"),
                        tags={t["key"]: t["value"] for t in s["tags"]},
                        events=tuple(
                            {f["key"]: f["value"] for f in log["fields"]}
                            for log in s.get("logs") or []
                        ),
                    )
                )
        return found


@contextmanager
def jaeger() -> Iterator[Jaeger]:
    """Jaeger v2 (built and cached by ``observability-tools.sh``) on free ports, in-memory;
    killed on exit."""
    binary = install("observability-tools.sh", timeout=1800)["jaeger"]
    otlp, grpc, query = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="lgd-jaeger-") as folder:
        config = Path(folder) / "jaeger.yaml"
        config.write_text(CONFIG.format(otlp=otlp, grpc=grpc, query=query))
        log = (Path(folder) / "jaeger.log").open("wb")
        proc = subprocess.Popen(
            [binary, "--config", f"file:{config}"], stdout=log, stderr=subprocess.STDOUT
        )
        running = Jaeger(f"http://127.0.0.1:{otlp}", f"http://127.0.0.1:{query}")
        try:
            _wait_serving(running, proc)
            yield running
        finally:
            proc.kill()
            proc.wait(10)
            log.close()


def _wait_serving(running: Jaeger, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jaeger exited with {proc.returncode}")
        try:
            httpx.get(f"{running.query}/api/services", timeout=1).raise_for_status()
            httpx.post(f"{running.otlp}/v1/traces", json={}, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
