"""Functions as processes connected by a real Kafka (tests/topology.py): the API behaves as in
``lg-deploy dev``, run requests and run ends travel as binary CloudEvents keyed by thread, a
full executor leaves the backlog in Kafka, and the CloudEvent endpoints answer per contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from cloudevents.core.bindings.http import to_binary as http_binary
from cloudevents.core.bindings.kafka import from_kafka
from cloudevents.core.formats.json import JSONFormat

from shared.cloud_events.types import (
    CRON_TICK,
    RUN_ENDED,
    RUN_LIFECYCLE_TOPIC,
    RUN_REQUESTED,
    RUN_REQUESTS_TOPIC,
    new_event,
)
from shared.infra.kafka import LocalKafka
from tests.faults.helpers import eventually
from tests.kafka_support import group_lag, read_records
from tests.support import sdk
from tests.topology import Topology, kafka_topology

ECHO = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def topology(
    database_url: str, kafka: LocalKafka, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Topology]:
    """Intake, two executors, webhooks and cron on Kafka."""
    logs = tmp_path_factory.mktemp("topology")
    with kafka_topology(
        database_url, kafka.bootstrap, logs, executors=2, others=("webhooks", "cron")
    ) as running:
        yield running


async def test_runs_travel_as_cloudevents(topology: Topology, kafka: LocalKafka) -> None:
    async with sdk(topology.intake) as client:
        thread = await client.threads.create()
        tid = thread["thread_id"]
        assert await client.runs.wait(tid, "echo", input=ECHO) == {"items": ["one"]}
        parts = [p.event async for p in client.runs.stream(tid, "echo", input=ECHO)]
        assert parts[0] == "metadata" and "values" in parts
        run = await client.runs.create(None, "echo", input=ECHO)
        await client.runs.join(run["thread_id"], run["run_id"])
    requests = await read_records(kafka.bootstrap, topology.prefix + RUN_REQUESTS_TOPIC, 3)
    ended = await read_records(kafka.bootstrap, topology.prefix + RUN_LIFECYCLE_TOPIC, 3)
    for message in requests:
        event = from_kafka(message, JSONFormat())
        assert event.get_type() == RUN_REQUESTED
        assert message.headers["content-type"] == b"application/json"
        data = orjson.loads(message.value)
        assert message.key == data["thread_id"].encode()  # one thread, one partition
    assert {orjson.loads(m.value)["thread_id"] for m in requests} == {tid, run["thread_id"]}
    statuses = [from_kafka(m, JSONFormat()) for m in ended]
    assert {e.get_type() for e in statuses} == {RUN_ENDED}
    assert {e.get_data()["status"] for e in statuses} == {"success"}  # type: ignore[index]


async def test_a_full_executor_leaves_the_backlog_in_kafka(
    database_url: str, kafka: LocalKafka, tmp_path: Path
) -> None:
    with kafka_topology(database_url, kafka.bootstrap, tmp_path, executors=1, n_jobs=1) as top:
        group, topic = top.prefix + "executors", top.prefix + RUN_REQUESTS_TOPIC
        async with sdk(top.intake) as client:
            config = {"configurable": {"sleep": 0.5}}
            runs = [
                # kept: a stateless run's thread (and the run) goes at its end otherwise
                await client.runs.create(
                    None, "slow", input={}, config=config, on_completion="keep"
                )
                for _ in range(4)
            ]
            backlog = await eventually(
                lambda: group_lag(kafka.bootstrap, group, topic),
                within=20,
                what="run requests waiting in Kafka while the only slot is busy",
            )
            assert backlog >= 1
            for run in runs:
                done = await client.runs.join(run["thread_id"], run["run_id"])
                assert done == {"items": ["one", "one", "one"]} or done is not None
            for run in runs:
                got = await client.runs.get(run["thread_id"], run["run_id"])
                assert got["status"] == "success"

        async def drained() -> bool:  # the idle executor fetches and commits the rest
            return await group_lag(kafka.bootstrap, group, topic) == 0

        await eventually(drained, within=20, what="the backlog committed once the slot is free")


def _post(url: str, event_type: str) -> httpx.Response:
    message = http_binary(new_event(event_type, "/tests", {}), JSONFormat())
    return httpx.post(url, headers=dict(message.headers), content=message.body, timeout=30)


def test_cloudevent_endpoints_answer_per_contract(topology: Topology) -> None:
    webhooks, cron = topology.servers["webhooks"].url, topology.servers["cron"].url
    assert _post(webhooks + "/", RUN_ENDED).status_code == 202
    assert _post(webhooks + "/", CRON_TICK).status_code == 202
    refused = _post(webhooks + "/", "com.example.other")
    assert refused.status_code == 400 and "not accepted" in refused.json()["detail"]
    assert _post(cron + "/", CRON_TICK).status_code == 202
    assert httpx.post(webhooks + "/", content=b"{}").status_code == 400
    for server in topology.servers.values():
        metrics = httpx.get(server.url + "/metrics").text
        assert "lgd_runs{" in metrics and "lgd_oldest_pending_run_age_seconds" in metrics
