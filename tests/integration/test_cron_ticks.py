"""Cron ticks across processes: two ``lg-deploy cron`` replicas on one PostgreSQL, driven by
CloudEvents with synthetic times (as Knative PingSource sends them, binary and structured),
with ``lg-deploy intake`` for the API and ``lg-deploy executor`` to run what they fire.

Guarantees: each cron fires exactly once per due minute whatever the number of replicas and
deliveries; disabled and ended crons never fire; a stateless cron's thread is deleted after
its run (``on_run_completed: "delete"``) or kept (``"keep"``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from croniter import croniter
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError
from langgraph_sdk.schema import Cron

from shared.db.pool import Database
from tests.faults.helpers import eventually
from tests.observability.jaeger import jaeger
from tests.support import Server, executor_id, sdk, start, wait_ready

ENV = {"LG_DEPLOY_SWEEP_SECONDS": "0.5", "LG_DEPLOY_TEMPORARY_THREAD_GRACE_SECONDS": "0"}
"""Stateless threads are deleted on the first sweep after their run."""


@dataclass
class CronCluster:
    """Intake, one executor and two cron replicas on the test database."""

    intake: Server
    replicas: list[Server]


@pytest.fixture(scope="module")
def cron_cluster(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CronCluster]:
    """Start the four processes once for this module (together, then wait for each)."""
    tmp_path = tmp_path_factory.mktemp("crons")
    procs: list[Server] = []
    try:
        for name in ("intake", "cron", "cron"):
            log = tmp_path / f"{name}{len(procs)}.log"
            procs.append(start(name, database_url=database_url, env=ENV, log=log, wait=False))
        executor = start("executor", database_url=database_url, env=ENV, log=tmp_path / "ex.log")
        procs.append(executor)
        for proc in procs[:3]:
            wait_ready(proc)
        executor_id(executor)
        yield CronCluster(procs[0], procs[1:3])
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
async def api(cron_cluster: CronCluster) -> AsyncIterator[LangGraphClient]:
    """The official SDK on the cluster's intake."""
    async with sdk(cron_cluster.intake) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP, for CloudEvents and ``GET /runs/crons/{id}``."""
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


NewCron = Callable[..., Awaitable[Cron]]


@pytest.fixture
async def new_cron(api: LangGraphClient) -> AsyncIterator[NewCron]:
    """Create crons of the ``echo`` graph (``* * * * *`` unless given; on ``thread_id`` if
    given), deleted after the test."""
    made: list[Cron] = []

    async def create(thread_id: str | None = None, **fields: Any) -> Cron:
        fields = {"schedule": "* * * * *", **fields}
        if thread_id is None:
            cron = await api.crons.create("echo", **fields)
        else:
            cron = await api.crons.create_for_thread(thread_id, "echo", **fields)
        made.append(cron)
        return cron

    yield create
    for cron in made:
        await api.crons.delete(cron["cron_id"])


def ping(at: datetime, *, structured: bool = False) -> ce_http.HTTPMessage:
    """A PingSource-like CloudEvent with time ``at`` (a fresh id), in binary or structured
    HTTP mode."""
    event = CloudEvent(
        attributes={
            "type": "dev.knative.sources.ping",
            "source": "/apis/v1/namespaces/test/pingsources/crons",
            "id": str(uuid.uuid4()),
            "time": at,
            "datacontenttype": "application/json",
        },
        data={"message": "tick"},
    )
    to_http = ce_http.to_structured if structured else ce_http.to_binary
    return to_http(event, JSONFormat())


async def deliver(http: httpx.AsyncClient, replica: Server, message: ce_http.HTTPMessage) -> None:
    """POST one CloudEvent to a cron replica; it must be accepted."""
    response = await http.post(replica.url + "/", headers=message.headers, content=message.body)
    assert response.status_code == 202, response.text


async def stored(http: httpx.AsyncClient, server: Server, cron_id: str) -> Cron:
    """A cron as ``GET /runs/crons/{cron_id}`` answers now."""
    response = await http.get(f"{server.url}/runs/crons/{cron_id}")
    assert response.status_code == 200, response.text
    cron: Cron = response.json()
    return cron


def next_run(cron: Cron) -> datetime:
    """A cron's ``next_run_date`` as a datetime."""
    assert cron["next_run_date"] is not None
    return datetime.fromisoformat(str(cron["next_run_date"]))


async def runs_per_cron(db: Database, crons: list[Cron]) -> dict[str, int]:
    """How many runs each cron has created (runs carry ``cron_id`` in their metadata)."""
    rows = await db.pool.fetch(
        "SELECT metadata->>'cron_id' AS cron_id, count(*) AS n FROM runs"
        " WHERE metadata->>'cron_id' = ANY($1) GROUP BY 1",
        [c["cron_id"] for c in crons],
    )
    found = {r["cron_id"]: int(r["n"]) for r in rows}
    return {c["cron_id"]: found.get(c["cron_id"], 0) for c in crons}


def expected_firings(schedule: str, first_due: datetime, ticks: list[datetime]) -> int:
    """Firings of a cron after ``ticks``: a tick fires it when due, once, and moves it to its
    first time after the tick."""
    due, fired = first_due, 0
    for at in ticks:
        if due <= at:
            fired += 1
            due = croniter(schedule, at).get_next(datetime)
    return fired


async def test_two_replicas_fire_each_cron_once_per_due_minute(
    cron_cluster: CronCluster,
    db: Database,
    api: LangGraphClient,
    http: httpx.AsyncClient,
    new_cron: NewCron,
) -> None:
    thread = await api.threads.create()
    firing = [
        await new_cron(thread["thread_id"], input={"items": []}),
        await new_cron(on_run_completed="keep"),
        await new_cron(schedule="*/2 * * * *", on_run_completed="keep"),
    ]
    silent = [
        await new_cron(enabled=False),
        await new_cron(end_time=datetime.now(UTC) - timedelta(minutes=1)),
    ]
    first = max(next_run(c) for c in firing[:2])
    ticks: list[datetime] = []
    a, b = cron_cluster.replicas
    for minute in range(3):
        at = first + timedelta(minutes=minute, seconds=0.3)
        ticks.append(at)
        events = [ping(at, structured=i % 2 == 1) for i in range(4)]
        # both replicas at once, four events for the same minute, one delivered thrice
        await asyncio.gather(
            *(deliver(http, replica, e) for e in events for replica in (a, b)),
            deliver(http, b, events[0]),
        )
        counts = await runs_per_cron(db, firing + silent)
        for cron in firing:
            want = expected_firings(cron["schedule"], next_run(cron), ticks)
            assert counts[cron["cron_id"]] == want, (minute, cron["schedule"], counts)
        assert all(counts[c["cron_id"]] == 0 for c in silent)
    assert [counts[c["cron_id"]] for c in firing[:2]] == [3, 3]
    for cron in firing:
        after = croniter(cron["schedule"], ticks[-1]).get_next(datetime)
        assert next_run(await stored(http, cron_cluster.intake, cron["cron_id"])) == after


async def test_redelivered_tick_after_the_cron_moved_on_fires_nothing(
    cron_cluster: CronCluster, db: Database, http: httpx.AsyncClient, new_cron: NewCron
) -> None:
    cron = await new_cron(on_run_completed="keep")
    at = next_run(cron)
    event = ping(at)
    await deliver(http, cron_cluster.replicas[0], event)
    assert await runs_per_cron(db, [cron]) == {cron["cron_id"]: 1}
    await deliver(http, cron_cluster.replicas[1], event)  # a retry, to the other replica
    assert await runs_per_cron(db, [cron]) == {cron["cron_id"]: 1}
    await deliver(http, cron_cluster.replicas[1], ping(at + timedelta(minutes=1)))
    assert await runs_per_cron(db, [cron]) == {cron["cron_id"]: 2}


async def test_missed_minutes_fire_once_then_the_cron_moves_to_the_future(
    cron_cluster: CronCluster, db: Database, http: httpx.AsyncClient, new_cron: NewCron
) -> None:
    cron = await new_cron(on_run_completed="keep")
    late = next_run(cron) + timedelta(minutes=10, seconds=5)
    await deliver(http, cron_cluster.replicas[0], ping(late))
    assert await runs_per_cron(db, [cron]) == {cron["cron_id"]: 1}
    moved = await stored(http, cron_cluster.intake, cron["cron_id"])
    assert next_run(moved) == late.replace(second=0, microsecond=0) + timedelta(minutes=1)


async def test_stateless_cron_threads_are_deleted_after_the_run_unless_kept(
    cron_cluster: CronCluster,
    db: Database,
    api: LangGraphClient,
    http: httpx.AsyncClient,
    new_cron: NewCron,
) -> None:
    deleted = await new_cron(input={"items": []})
    kept = await new_cron(input={"items": []}, on_run_completed="keep")
    await deliver(http, cron_cluster.replicas[0], ping(max(next_run(deleted), next_run(kept))))
    rows = await db.pool.fetch(
        "SELECT metadata->>'cron_id' AS cron_id, run_id, thread_id FROM runs"
        " WHERE metadata->>'cron_id' = ANY($1)",
        [deleted["cron_id"], kept["cron_id"]],
    )
    threads = {r["cron_id"]: str(r["thread_id"]) for r in rows}
    assert len(rows) == 2 and len(set(threads.values())) == 2
    kept_tid = threads[kept["cron_id"]]
    run = next(r for r in rows if r["cron_id"] == kept["cron_id"])
    assert await api.runs.join(kept_tid, str(run["run_id"])) == {"items": ["one"]}

    async def deleted_thread_gone() -> bool:
        try:
            await api.threads.get(threads[deleted["cron_id"]])
        except NotFoundError:
            return True
        return False

    await eventually(deleted_thread_gone, within=60, what="the stateless thread deleted")
    await asyncio.sleep(1.5)  # three more sweeps: the kept thread must survive them
    thread = await api.threads.get(kept_tid)
    assert thread["values"] == {"items": ["one"]} and thread["status"] == "idle"


async def test_cron_replica_answers_health_and_refuses_what_is_not_a_cloudevent(
    cron_cluster: CronCluster, http: httpx.AsyncClient
) -> None:
    url = cron_cluster.replicas[0].url
    assert (await http.get(url + "/ok")).json() == {"ok": True}
    for body, headers in [
        (b"{}", {"content-type": "application/json"}),
        (b"not json", {"content-type": "application/json"}),
        (b"", {"ce-type": "x", "ce-id": "1", "ce-specversion": "1.0"}),  # no source
    ]:
        response = await http.post(url + "/", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert "detail" in response.json()


async def test_a_firing_starts_a_trace_linked_to_the_cron_and_its_run_belongs_to_it(
    database_url: str, db: Database, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    with jaeger() as backend:
        env = {**ENV, **backend.env}
        intake = start("intake", database_url=database_url, env=env, log=tmp_path / "i.log")
        cron_function = start("cron", database_url=database_url, env=env, log=tmp_path / "c.log")
        try:
            response = await http.post(
                f"{intake.url}/runs/crons",
                json={"assistant_id": "echo", "schedule": "* * * * *"},
            )
            assert response.status_code == 200, response.text
            cron = response.json()
            _, creation_trace, creation_span, _ = response.headers["traceresponse"].split("-")
            await deliver(http, cron_function, ping(next_run(cron)))
            traceparent = await db.pool.fetchval(
                "SELECT request_context->>'traceparent' FROM runs WHERE metadata->>'cron_id' = $1",
                cron["cron_id"],
            )
        finally:
            cron_function.stop()  # flushes its spans
            intake.stop()
        fired = backend.trace_ids("lg-deploy-cron", **{"lgd.cron_id": cron["cron_id"]})
        assert len(fired) == 1 and fired[0] != creation_trace
        spans = backend.spans(fired[0])
    fire = next(s for s in spans if s.name == "lgd.cron.fire")
    assert (fire.parent, fire.links) == (None, (creation_span,))
    assert fire.tags["lgd.run_id"]
    assert traceparent.split("-")[1:3] == [fired[0], fire.span_id]  # the run is in the firing's
