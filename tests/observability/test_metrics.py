"""The metrics operators read, scraped over real HTTP from ``lg-deploy dev`` (and ``up`` for
the topology ones) and parsed with prometheus-client's parser.

Guarantees: every request is timed under its route template and status code (never an id;
``<unmatched>`` when no route fits), on intake and on the other functions' apps; per-tenant
queue depth, oldest pending age and oldest running age exist for exactly the tenants that have
such runs and go when the runs do; executor slots used/free follow the runs; each run is counted
once in ``lgd_runs_finished_total`` under its graph and final status, whether its executor ended
it or a cancel ended it before it ran; every kind of SSE response counts while open; Kafka
clients report connected on ``up``, read 0 as soon as their broker is gone and 1 again within
``METADATA_MAX_AGE_MS`` of its return (intake and an executor on a Kafka of the test's own),
and have no series without Kafka.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from shared.infra.kafka import LocalKafka
from shared.kafka.health import METADATA_MAX_AGE_MS
from tests.faults.helpers import eventually
from tests.kafka_support import kafka_broker
from tests.observability.support import Samples, Up, scrape, series, value
from tests.support import Server, create_api_key, dev_server, lg_deploy, postgres_dir
from tests.topology import Topology, kafka_topology

HTTP_COUNT = "lgd_http_request_duration_seconds_count"
N_JOBS = 2


@pytest.fixture(scope="module")
def deployment() -> Iterator[tuple[Server, dict[str, str]]]:
    """``lg-deploy dev`` with ``N_JOBS`` slots and a key per tenant, ``alpha`` and ``beta``:
    the server and tenant → key."""
    env = {"LG_DEPLOY_API_KEY_CACHE_SECONDS": "0.2", "LG_DEPLOY_N_JOBS": str(N_JOBS)}
    with dev_server("metrics", env=env) as server:
        keys = {}
        for tenant in ("alpha", "beta"):
            assert lg_deploy(server.data_dir, "tenants", "create", tenant).returncode == 0
            keys[tenant] = create_api_key(server.data_dir, tenant, "developer")
        yield server, keys


@pytest.fixture
async def alpha(deployment: tuple[Server, dict[str, str]]) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP as tenant ``alpha``."""
    server, keys = deployment
    headers = {"X-Api-Key": keys["alpha"]}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
        await eventually(lambda: _accepted(http), within=10, what="the new key to be known")
        yield http


async def _accepted(http: httpx.AsyncClient) -> bool:
    return (await http.post("/threads/search", json={})).status_code == 200


def _count(samples: Samples, method: str, route: str, code: str) -> float:
    return value(samples, HTTP_COUNT, method=method, route=route, code=code) or 0.0


async def _scrape(server: Server) -> Samples:
    return await asyncio.to_thread(scrape, server.url)


async def _run(
    http: httpx.AsyncClient, thread_id: str, graph: str, sleep: float = 0.0, **extra: object
) -> str:
    body = {"assistant_id": graph, "input": {}, "config": {"configurable": {"sleep": sleep}}}
    response = await http.post(f"/threads/{thread_id}/runs", json={**body, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["run_id"])


async def _thread(http: httpx.AsyncClient) -> str:
    response = await http.post("/threads", json={})
    assert response.status_code == 200, response.text
    return str(response.json()["thread_id"])


async def _has_status(http: httpx.AsyncClient, thread_id: str, run_id: str, status: str) -> bool:
    return bool((await http.get(f"/threads/{thread_id}/runs/{run_id}")).json()["status"] == status)


def _grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the sample ``name{labels}`` grew between two scrapes (absent: 0)."""
    return (value(after, name, **labels) or 0.0) - (value(before, name, **labels) or 0.0)


async def test_requests_are_timed_by_route_template_and_status_code(
    deployment: tuple[Server, dict[str, str]], alpha: httpx.AsyncClient
) -> None:
    server, _ = deployment
    before = await _scrape(server)
    thread_id = await _thread(alpha)
    missing = uuid.uuid4()
    assert (await alpha.get(f"/threads/{missing}")).status_code == 404
    assert (await alpha.get("/no/such/route")).status_code == 404
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.post("/threads", json={})).status_code == 401
    after = await _scrape(server)
    for method, route, code in (
        ("POST", "/threads", "200"),
        ("GET", "/threads/{thread_id}", "404"),
        ("GET", "<unmatched>", "404"),
        ("POST", "/threads", "401"),  # refused by the edge, before routing: still templated
    ):
        grown = _grown(before, after, HTTP_COUNT, method=method, route=route, code=code)
        assert grown == 1, (method, route, code)
    assert (
        value(
            after,
            "lgd_http_request_duration_seconds_bucket",
            method="POST",
            route="/threads",
            code="200",
            le="+Inf",
        )
        is not None
    )
    labels = {v for labels in series(after, HTTP_COUNT) for _, v in labels}
    assert not any(thread_id in v or str(missing) in v for v in labels)


async def test_queue_depth_and_run_ages_exist_per_tenant_while_it_has_such_runs(
    deployment: tuple[Server, dict[str, str]], alpha: httpx.AsyncClient
) -> None:
    server, _ = deployment
    thread_id = await _thread(alpha)
    running = await _run(alpha, thread_id, "slow", sleep=30)
    await eventually(
        lambda: _has_status(alpha, thread_id, running, "running"), within=30, what="a running run"
    )
    queued = await _run(alpha, thread_id, "echo", multitask_strategy="enqueue")
    finished_before = await _scrape(server)

    def tenant_gauges(samples: Samples) -> dict[str, float | None]:
        return {
            name: value(samples, name, tenant="alpha")
            for name in (
                "lgd_queue_depth",
                "lgd_oldest_pending_run_age_seconds",
                "lgd_oldest_running_run_age_seconds",
            )
        }

    async def both_seen() -> Samples | None:
        samples = await _scrape(server)
        gauges = tenant_gauges(samples)
        return samples if (gauges["lgd_oldest_running_run_age_seconds"] or 0) >= 1 else None

    samples = await eventually(both_seen, within=30, what="the running run to age")
    gauges = tenant_gauges(samples)
    assert gauges["lgd_queue_depth"] == 1  # due, behind the thread's running run
    assert 0 <= (gauges["lgd_oldest_pending_run_age_seconds"] or -1) < 60
    for name in gauges:  # beta has no runs: no series at all
        assert value(samples, name, tenant="beta") is None
    assert value(samples, "lgd_executor_slots", state="used") == 1
    assert value(samples, "lgd_executor_slots", state="free") == N_JOBS - 1

    response = await alpha.post(f"/threads/{thread_id}/runs/{queued}/cancel")
    assert response.status_code in (200, 202, 204), response.text
    response = await alpha.post(f"/threads/{thread_id}/runs/{running}/cancel")
    assert response.status_code in (200, 202, 204), response.text
    await eventually(
        lambda: _has_status(alpha, thread_id, running, "interrupted"), within=30, what="the cancel"
    )

    async def gone() -> Samples | None:
        samples = await _scrape(server)
        return samples if set(tenant_gauges(samples).values()) == {None} else None

    after = await eventually(gone, within=10, what="alpha's series to go")
    assert value(after, "lgd_executor_slots", state="used") == 0
    assert value(after, "lgd_executor_slots", state="free") == N_JOBS
    # each ended exactly once: the pending one by its cancel, the running one by its executor
    for graph in ("echo", "slow"):
        grown = _grown(
            finished_before, after, "lgd_runs_finished_total", graph_id=graph, status="interrupted"
        )
        assert grown == 1, graph


async def test_each_run_is_counted_once_under_its_graph_and_final_status(
    deployment: tuple[Server, dict[str, str]], alpha: httpx.AsyncClient
) -> None:
    server, _ = deployment
    before = await _scrape(server)
    thread_id = await _thread(alpha)
    for graph in ("echo", "fail", "echo"):
        body = {"assistant_id": graph, "input": {}}
        response = await alpha.post(f"/threads/{thread_id}/runs/wait", json=body)
        assert response.status_code == 200, response.text
    after = await _scrape(server)

    def grown(graph: str, status: str) -> float:
        return _grown(before, after, "lgd_runs_finished_total", graph_id=graph, status=status)

    assert grown("echo", "success") == 2
    assert grown("fail", "error") == 1
    assert grown("echo", "error") == 0 and grown("fail", "success") == 0
    assert value(after, "lgd_runs_finished_total", graph_id="steps", status="timeout") == 0


async def test_open_sse_responses_are_counted_by_kind_until_they_close(
    deployment: tuple[Server, dict[str, str]], alpha: httpx.AsyncClient
) -> None:
    server, _ = deployment
    thread_id = await _thread(alpha)
    assistant = await alpha.post(
        "/assistants", json={"graph_id": "slow_chat", "config": {"configurable": {"sleep": 30}}}
    )
    assert assistant.status_code == 200, assistant.text
    body = {"assistant_id": "slow", "input": {}, "config": {"configurable": {"sleep": 30}}}
    a2a = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "message/stream",
        "params": {
            "message": {
                "messageId": str(uuid.uuid4()),
                "role": "user",
                "parts": [{"kind": "text", "text": "hi"}],
            }
        },
    }
    sse = {"Accept": "text/event-stream"}
    async with AsyncExitStack() as streams:
        run = await streams.enter_async_context(
            alpha.stream("POST", f"/threads/{thread_id}/runs/stream", json=body)
        )
        assert run.status_code == 200
        run_id = run.headers["location"].rstrip("/").split("/")[-2]
        opened = [
            ("join", alpha.stream("GET", f"/threads/{thread_id}/runs/{run_id}/stream")),
            ("thread", alpha.stream("GET", f"/threads/{thread_id}/stream")),
            (
                "a2a",
                alpha.stream(
                    "POST", f"/a2a/{assistant.json()['assistant_id']}", json=a2a, headers=sse
                ),
            ),
        ]
        for kind, request in opened:
            response = await streams.enter_async_context(request)
            assert response.status_code == 200, kind

        async def all_open() -> bool:
            open_now = series(await _scrape(server), "lgd_stream_connections")
            return all(open_now.get((("kind", k),)) == 1 for k in ("run", "join", "thread", "a2a"))

        await eventually(all_open, within=10, what="four open streams")
    await alpha.post(f"/threads/{thread_id}/runs/{run_id}/cancel")

    async def all_closed() -> bool:
        open_now = series(await _scrape(server), "lgd_stream_connections")
        return set(open_now.values()) == {0}

    await eventually(all_closed, within=30, what="the streams to be counted closed")


async def test_kafka_clients_have_no_series_without_kafka(
    deployment: tuple[Server, dict[str, str]],
) -> None:
    server, _ = deployment
    assert series(await _scrape(server), "lgd_kafka_up") == {}


CONSUMING = ("executor", "cron", "webhooks", "builder")
"""The functions of ``up`` that consume a topic (intake only produces)."""


async def test_every_kafka_client_of_up_reports_connected(up: Up) -> None:
    async def connected() -> bool:
        for name, url in up.urls.items():
            clients = series(await asyncio.to_thread(scrape, url), "lgd_kafka_up")
            expected = {(("client", "producer"),): 1.0}
            if name in CONSUMING:
                expected[(("client", "consumer"),)] = 1.0
            if clients != expected:
                return False
        return True

    await eventually(connected, within=60, what="every Kafka client to be connected", interval=1)


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[tuple[LocalKafka, Topology]]:
    """Intake and one executor on a Kafka and a PostgreSQL of this test alone (it stops that
    Kafka): the broker and the topology."""
    with kafka_broker("kafka-up") as broker, postgres_dir("kafka-up") as base:
        url = start_embedded_postgres(base / "data")
        try:
            with kafka_topology(url, broker.bootstrap, tmp_path, executors=1) as topology:
                yield broker, topology
        finally:
            stop_embedded_postgres(base / "data")


async def test_kafka_up_is_0_while_the_broker_is_down_and_1_again_after_it_returns(
    own_kafka: tuple[LocalKafka, Topology],
) -> None:
    broker, topology = own_kafka
    executor, intake = topology.executors[0], topology.intake
    producer, consumer = (("client", "producer"),), (("client", "consumer"),)

    def kafka_up(expected: float) -> Callable[[], Awaitable[bool]]:
        """Whether the executor's producer and consumer and intake's producer all read
        ``expected`` (and no other client shows)."""

        async def probe() -> bool:
            of_executor = series(await _scrape(executor), "lgd_kafka_up")
            of_intake = series(await _scrape(intake), "lgd_kafka_up")
            return of_executor == {producer: expected, consumer: expected} and of_intake == {
                producer: expected
            }

        return probe

    await eventually(kafka_up(1.0), within=30, what="the clients to be connected", interval=0.2)
    await asyncio.to_thread(broker.stop)  # returns once the broker process is gone
    # Its connections closed with it: every client sees that at once.
    await eventually(kafka_up(0.0), within=10, what="lgd_kafka_up 0", interval=0.2)
    await asyncio.sleep(2)
    assert await kafka_up(0.0)(), "a client read connected while the broker was down"
    await asyncio.to_thread(broker.start)  # returns once the broker serves again
    # The consumers reconnect at once (the group coordinator is looked up again and again);
    # an idle producer only at its next metadata refresh, at most METADATA_MAX_AGE_MS later.
    await eventually(
        kafka_up(1.0),
        within=METADATA_MAX_AGE_MS / 1000 + 10,
        what="lgd_kafka_up 1 within METADATA_MAX_AGE_MS of the broker's return",
        interval=0.2,
    )


def test_the_other_functions_time_their_requests_too(up: Up) -> None:
    for name in CONSUMING:
        url = up.urls[name]
        assert httpx.get(url + "/ok", timeout=10).status_code == 200
        assert httpx.get(url + "/nope", timeout=10).status_code == 404
        samples = scrape(url)
        assert _count(samples, "GET", "/ok", "200") >= 1, name
        assert _count(samples, "GET", "<unmatched>", "404") >= 1, name
