"""Helpers of the observability tests: scrape a function's ``/metrics`` with
prometheus-client's parser, and the ``lg-deploy up`` topology with every function's URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Server, free_ports, postgres_dir, start, wait_ready

Labels = tuple[tuple[str, str], ...]
Samples = dict[tuple[str, Labels], float]
"""A scrape: (sample name, sorted labels) → value."""


def scrape(url: str) -> Samples:
    """``GET <url>/metrics`` parsed by prometheus-client's text parser."""
    response = httpx.get(url + "/metrics", timeout=30)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample ``name{labels}`` of a scrape, ``None`` when absent."""
    return samples.get((name, tuple(sorted(labels.items()))))


def series(samples: Samples, name: str) -> dict[Labels, float]:
    """Every sample named ``name``: labels → value."""
    return {labels: v for (n, labels), v in samples.items() if n == name}


UP_FUNCTIONS = ("intake", "executor", "cron", "webhooks", "builder")
"""The processes of ``lg-deploy up --executors 1``, in port order (functions/up.py plan)."""


@dataclass
class Up:
    """A running ``lg-deploy up``: its server (intake) and each function's base URL."""

    server: Server
    urls: dict[str, str]


@contextmanager
def up_topology(prefix: str, env: dict[str, str]) -> Iterator[Up]:
    """``lg-deploy up`` with one executor (own PostgreSQL and Kafka), ready when every
    function answers ``/ok``; stopped on exit."""
    port = free_ports(len(UP_FUNCTIONS) + 2)  # then Kafka's listener and its controller's
    with postgres_dir(prefix) as base:
        server = start(
            "up",
            data_dir=base / "data",
            port=port,
            log=base / "server.log",
            extra=["--kafka-port", str(port + len(UP_FUNCTIONS)), "--executors", "1"],
            env=env,
        )
        try:
            wait_ready(server, timeout=120, functions=len(UP_FUNCTIONS))
            urls = {
                name: f"http://127.0.0.1:{server.port + offset}"
                for offset, name in enumerate(UP_FUNCTIONS)
            }
            yield Up(server, urls)
        finally:
            server.stop()
