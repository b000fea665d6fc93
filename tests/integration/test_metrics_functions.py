"""``GET /ok`` and ``GET /metrics`` on the functions that run alone without intake's API: the
executor (a KEDA Deployment: probes and Prometheus only) and cron, on a real PostgreSQL.

Guarantees: each serves the Prometheus text format with the run gauges read from PostgreSQL at
scrape time (``lgd_runs{status}``, per tenant ``lgd_oldest_pending_run_age_seconds``); a run
that ends is counted under its status and in the executor's attempt histogram; the executor's
``/ok`` reports its load; a database that refuses connections never fails a scrape
(``lgd_database_up`` 0, NaN gauges) and the gauges come back with it; ``/ok?check_db=1`` is
then 503.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from shared.db.pool import Database
from tests.faults.helpers import eventually
from tests.support import Server, executor_id, sdk, start, wait_ready

CONTRACT = {
    "lgd_runs": "gauge",
    "lgd_oldest_pending_run_age_seconds": "gauge",
    "lgd_run_attempt_duration_seconds": "histogram",
    "lgd_lease_reclaims": "counter",
    "lgd_kafka_consumer_lag": "gauge",
    "lgd_dead_letters": "counter",
    "lgd_database_up": "gauge",
}
"""Metric families every function exposes (counters are named without ``_total`` here)."""


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: Server) -> Samples:
    """``GET /metrics`` parsed by prometheus-client: sample (name, labels) → value."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def families(server: Server) -> dict[str, str]:
    """Family name → type of every metric ``server`` exposes."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    return {family.name: family.type for family in text_string_to_metric_families(text)}


def runs_with(samples: Samples, status: str) -> float:
    """``lgd_runs{status=…}`` of a scrape."""
    return samples[("lgd_runs", (("status", status),))]


@pytest.fixture(scope="module")
def functions(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    """``lg-deploy intake``, ``executor`` (4 slots) and ``cron``, each alone on its port."""
    tmp = tmp_path_factory.mktemp("metrics")
    servers: dict[str, Server] = {}
    try:
        for name in ("executor", "cron", "intake"):
            extra = ["--n-jobs", "4"] if name == "executor" else None
            servers[name] = start(
                name, database_url=database_url, log=tmp / f"{name}.log", wait=False, extra=extra
            )
        executor_id(servers["executor"])
        for server in servers.values():
            wait_ready(server)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def test_every_function_exposes_the_contract_metrics(functions: dict[str, Server]) -> None:
    for name, server in functions.items():
        exposed = families(server)
        for family, kind in CONTRACT.items():
            assert exposed.get(family) == kind, (name, family, exposed.get(family))


def test_the_executor_alone_answers_ok_with_its_load(functions: dict[str, Server]) -> None:
    body = httpx.get(functions["executor"].url + "/ok", timeout=30).json()
    assert body["ok"] is True and body["n_jobs"] == 4 and 0 <= body["running"] <= 4
    checked = httpx.get(functions["executor"].url + "/ok", params={"check_db": 1}, timeout=30)
    assert checked.status_code == 200 and checked.json()["ok"] is True
    bad = httpx.get(functions["executor"].url + "/ok", params={"check_db": "yes"}, timeout=30)
    assert bad.status_code == 422 and "detail" in bad.json()


async def test_a_finished_run_is_counted_by_the_executor_and_cron_metrics(
    functions: dict[str, Server],
) -> None:
    executor, cron = functions["executor"], functions["cron"]
    before = await scrape(executor)
    for server in (executor, cron):
        samples = await scrape(server)
        for status in ("pending", "running", "success", "error", "timeout", "interrupted"):
            assert runs_with(samples, status) >= 0
        assert samples[("lgd_database_up", ())] == 1
    async with sdk(functions["intake"]) as client:
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "echo", input={})
        await client.runs.join(thread["thread_id"], run["run_id"])
        assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
    for server in (executor, cron):
        assert runs_with(await scrape(server), "success") >= runs_with(before, "success") + 1
    attempts = ("lgd_run_attempt_duration_seconds_count", (("outcome", "success"),))
    assert (await scrape(executor))[attempts] >= before.get(attempts, 0) + 1


@pytest.fixture
async def own_database(database_url: str, db: Database) -> AsyncIterator[tuple[str, str]]:
    """A new database on the session's server: (name, URI); dropped after the test."""
    name = f"metrics_{uuid.uuid4().hex[:12]}"
    await db.pool.execute(f"CREATE DATABASE {name}")
    yield name, database_url.replace("/postgres?", f"/{name}?", 1)
    await db.pool.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    await db.pool.execute(f"DROP DATABASE {name} WITH (FORCE)")


async def test_metrics_are_served_while_the_database_refuses_connections(
    own_database: tuple[str, str], db: Database, tmp_path: Path
) -> None:
    name, url = own_database
    cron = start("cron", database_url=url, log=tmp_path / "cron.log")
    try:
        assert (await scrape(cron))[("lgd_database_up", ())] == 1
        await db.pool.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        await db.pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        down = await scrape(cron)
        assert down[("lgd_database_up", ())] == 0
        assert math.isnan(runs_with(down, "pending"))
        assert not [k for k in down if k[0].startswith("lgd_oldest_")]  # no stale per-tenant age
        async with httpx.AsyncClient(base_url=cron.url, timeout=30) as http:
            assert (await http.get("/ok")).json() == {"ok": True}
            checked = await http.get("/ok", params={"check_db": 1})
        assert checked.status_code == 503 and "database unavailable" in checked.json()["detail"]
        await db.pool.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")

        async def up() -> bool:
            return (await scrape(cron))[("lgd_database_up", ())] == 1

        await eventually(up, within=30, what="the database to be read again")
        assert runs_with(await scrape(cron), "pending") == 0
    finally:
        cron.stop()
