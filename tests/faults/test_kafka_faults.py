"""Faults of the production topology: functions as processes on a real Kafka and PostgreSQL.

Issue 4, "Fault tests (real broker and database)": an executor SIGKILLed mid-run is resumed by
another from the checkpoint within lease + 5 s; an executor SIGTERMed mid-run hands its run
back and only the step in flight runs again; a run request delivered twice executes once; Kafka
stopped for 30 s under load loses no run; PostgreSQL restarted under load loses no run and
every function recovers.

The module's tests share one topology (intake, executors, webhooks, cron) on a Kafka broker and
a PostgreSQL of the module's own, which its tests stop and start; each test starts executors
until two are alive, and checks only the log lines written during it.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run

from shared.cloud_events.types import (
    CRON_TICK,
    RUN_CREATE,
    RUN_ENDED,
    RUN_REQUESTS_TOPIC,
    new_event,
    run_requested,
)
from shared.infra.kafka import LocalKafka
from tests.faults.helpers import (
    FAULT_ENV,
    LEASE_SECONDS,
    STEP_NAMES,
    assert_only_in_flight_reran,
    eventually,
    ledger_counts,
    ledger_lines,
    run_attempts,
    start_run,
    start_steps_run,
)
from tests.kafka_support import kafka_broker
from tests.support import Server, executor_id, sdk
from tests.topology import Topology, kafka_topology

if TYPE_CHECKING:
    from tests.faults.conftest import OwnPostgres

pytestmark = pytest.mark.slow

EXECUTORS_GROUP = "executors"
N_JOBS = 4
KAFKA_DOWN_SECONDS = 30.0
POSTGRES_DOWN_SECONDS = 2.0


@dataclass
class Functions:
    """The module's topology as one test sees it: its Kafka, and each log's length when the
    test began."""

    topology: Topology
    kafka: LocalKafka
    log_marks: dict[str, int] = field(default_factory=dict)

    @property
    def intake(self) -> Server:
        return self.topology.intake

    @property
    def executors(self) -> list[Server]:
        """The executors alive now."""
        return [s for s in self.topology.executors if s.proc.poll() is None]

    @property
    def requests_topic(self) -> str:
        return self.topology.prefix + RUN_REQUESTS_TOPIC

    @property
    def executors_group(self) -> str:
        return self.topology.prefix + EXECUTORS_GROUP

    def new_logs(self) -> str:
        """What every function logged since the test began."""
        return "\n".join(
            f"== {name}\n{server.log_text()[self.log_marks.get(name, 0) :]}"
            for name, server in self.topology.servers.items()
        )


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalKafka]:
    """A Kafka of this module alone (the Kafka fault stops it)."""
    with kafka_broker("kafka-faults") as kafka:
        yield kafka


@pytest.fixture(scope="module")
def topology(
    postgres: OwnPostgres, broker: LocalKafka, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Topology]:
    """Intake, two executors, webhooks and cron on :func:`postgres` and :func:`broker`."""
    logs = tmp_path_factory.mktemp("functions")
    with kafka_topology(
        postgres.url,
        broker.bootstrap,
        logs,
        n_jobs=N_JOBS,
        others=("webhooks", "cron"),
        env=FAULT_ENV,
    ) as running:
        yield running


@pytest.fixture
def functions(topology: Topology, broker: LocalKafka) -> Functions:
    """:func:`topology` with two executors alive (started anew after a kill)."""
    seen = Functions(topology, broker)
    while len(seen.executors) < 2:
        topology.start("executor", ["--n-jobs", str(N_JOBS)])
    seen.log_marks = {name: len(s.log_text()) for name, s in topology.servers.items()}
    return seen


# --- what the API and Kafka show ------------------------------------------------------------


async def _holder(functions: Functions, run: Run) -> Server:
    """The executor running ``run``'s first attempt."""
    attempts = await eventually(
        partial(run_attempts, functions.intake, run), within=30, what="the run's first claim"
    )
    return next(s for s in functions.executors if executor_id(s) == attempts[0]["executor_id"])


async def _steps_runs(
    client: LangGraphClient, ledgers: list[Path], sleep: float, **kwargs: Any
) -> list[Run]:
    """A background ``steps`` run per ledger, each on a new thread (``kwargs``: of the run)."""
    configs = ({"ledger": str(path), "sleep": sleep} for path in ledgers)
    return [await start_run(client, "steps", config, **kwargs) for config in configs]


def _stretches(lines: list[str]) -> int:
    """How many stretches of consecutive steps a ``steps`` ledger holds. Attempts that ran one
    after another leave one stretch each (fewer if one resumed right after the last); two
    attempts running at once interleave their steps into many."""
    steps = [STEP_NAMES.index(line) for line in lines]
    return 1 + sum(1 for a, b in itertools.pairwise(steps) if b != a + 1)


async def _join_all(client: LangGraphClient, runs: list[Run]) -> list[Any]:
    joins = (client.runs.join(r["thread_id"], r["run_id"]) for r in runs)
    return list(await asyncio.gather(*joins))


async def _statuses(client: LangGraphClient, runs: list[Run]) -> list[str]:
    return [(await client.runs.get(r["thread_id"], r["run_id"]))["status"] for r in runs]


async def _original_request(bootstrap: str, topic: str, run_id: str) -> BaseCloudEvent:
    """The ``run.requested`` CloudEvent intake put on ``topic`` for ``run_id``."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                fetched = await consumer.getmany(timeout_ms=500)
                for record in itertools.chain.from_iterable(fetched.values()):
                    event = _decode(record)
                    if event.get_extension("runid") == run_id:
                        return event
    finally:
        await consumer.stop()


def _decode(record: ConsumerRecord[bytes, bytes]) -> BaseCloudEvent:
    message = ce_kafka.KafkaMessage(dict(record.headers), record.key, record.value or b"")
    return ce_kafka.from_kafka(message, JSONFormat())


async def _produce(bootstrap: str, topic: str, *events: BaseCloudEvent) -> None:
    """Send ``events`` to ``topic`` in binary mode, keyed by their ``partitionkey``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            message = ce_kafka.to_binary(event, JSONFormat())
            key = message.key.encode() if isinstance(message.key, str) else message.key
            await producer.send_and_wait(
                topic, message.value, key=key, headers=list(message.headers.items())
            )
    finally:
        await producer.stop()


async def _all_consumed(functions: Functions) -> bool:
    """Whether the executors' group has committed every run request (offsets at the end)."""
    bootstrap, topic = functions.kafka.bootstrap, functions.requests_topic
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        await consumer.topics()  # loads the partitions of every topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(functions.executors_group)
    finally:
        await consumer.stop()
        await admin.close()
    return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items() if end)


async def _wait_all_consumed(functions: Functions) -> None:
    await eventually(
        partial(_all_consumed, functions),
        within=60,
        what="the executors to commit every run request",
        interval=0.5,
    )


async def _healthy(server: Server) -> bool:
    """Whether ``GET /ok?check_db=1`` answers 200 (PostgreSQL reachable from ``server``)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        try:
            return (await http.get("/ok", params={"check_db": 1})).status_code == 200
        except httpx.HTTPError:
            return False


async def _post_event(server: Server, path: str, event: BaseCloudEvent) -> httpx.Response:
    """POST ``event`` in binary mode to ``path`` of a function."""
    message = ce_http.to_binary(event, JSONFormat())
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post(path, headers=message.headers, content=message.body)


# --- the faults -----------------------------------------------------------------------------


async def test_run_request_delivered_twice_executes_once(
    functions: Functions, ledger: Path
) -> None:
    bootstrap, topic = functions.kafka.bootstrap, functions.requests_topic
    async with sdk(functions.intake) as client:
        run = await start_run(client, "steps", {"ledger": str(ledger), "sleep": 0.1})
        original = await _original_request(bootstrap, topic, run["run_id"])
        assert original.get_extension("tenantid") == "default"  # the request's context
        assert original.get_extension("requestid")
        again = run_requested("/tests/faults", run["run_id"], run["thread_id"])
        # while the run runs: the same event again, and the same request under a new id
        await _produce(bootstrap, topic, original, again)
        values = await client.runs.join(run["thread_id"], run["run_id"])
        # after it ended: both once more
        await _produce(bootstrap, topic, original, again)
        await _wait_all_consumed(functions)
        final = await client.runs.get(run["thread_id"], run["run_id"])
    attempts = await run_attempts(functions.intake, run)
    assert original.get_id() != again.get_id()
    assert values == {"items": STEP_NAMES}
    assert final["status"] == "success"
    assert ledger_lines(ledger) == STEP_NAMES
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "success")]
    assert "Traceback" not in functions.new_logs()


async def test_run_create_cloudevent_posted_twice_creates_one_run(
    functions: Functions, ledger: Path
) -> None:
    async with sdk(functions.intake) as client:
        thread = await client.threads.create()
        data = {
            "thread_id": thread["thread_id"],
            "assistant_id": "steps",
            "input": {"items": []},
            "config": {"configurable": {"ledger": str(ledger)}},
        }
        event = new_event(RUN_CREATE, "/tests/faults/orders", data)
        answers = [await _post_event(functions.intake, "/cloudevents", event) for _ in range(2)]
        assert [a.status_code for a in answers] == [202, 202], answers[-1].text
        first, second = (a.json() for a in answers)
        values = await client.runs.join(thread["thread_id"], first["run_id"])
        runs = await client.runs.list(thread["thread_id"])
    assert second["run_id"] == first["run_id"]
    assert [r["run_id"] for r in runs] == [first["run_id"]]
    assert values == {"items": STEP_NAMES}
    assert ledger_lines(ledger) == STEP_NAMES


async def _held_steps_run(
    functions: Functions, client: LangGraphClient, ledger: Path
) -> tuple[Run, Server]:
    """A 20-step run (0.2 s a step) once 5 steps ran, and the executor running it."""
    run = await start_steps_run(client, ledger, started=5)
    return run, await _holder(functions, run)


async def _assert_taken_over(
    functions: Functions, client: LangGraphClient, run: Run, victim: Server, first_outcome: str
) -> None:
    """``run`` ends ``success`` with every step's output, in a second attempt on another
    executor after ``victim``'s attempt ended ``first_outcome``."""
    values = await client.runs.join(run["thread_id"], run["run_id"])
    final = await client.runs.get(run["thread_id"], run["run_id"])
    attempts = await run_attempts(functions.intake, run)
    assert final["status"] == "success"
    assert values == {"items": STEP_NAMES}
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, first_outcome), (2, "success")]
    assert attempts[0]["executor_id"] == executor_id(victim)
    assert attempts[1]["executor_id"] in {executor_id(s) for s in functions.executors}


async def test_sigtermed_executor_hands_its_run_back_and_only_the_step_in_flight_reruns(
    functions: Functions, ledger: Path
) -> None:
    async with sdk(functions.intake) as client:
        run, victim = await _held_steps_run(functions, client, ledger)
        at_signal = len(ledger_lines(ledger))
        code = victim.stop(signal.SIGTERM)
        at_exit = len(ledger_lines(ledger))
        await _assert_taken_over(functions, client, run, victim, "released")
    assert code == 0, victim.log_text()
    # A step started between the signal and the victim's exit (by it, or by another executor
    # right after the hand-back) may be the one in flight; every earlier step ran just once.
    assert_only_in_flight_reran(ledger, ledger_lines(ledger)[at_signal - 1 : at_exit])
    assert sum(n - 1 for n in ledger_counts(ledger).values()) <= 1
    logs = functions.new_logs()
    assert "lease expired" not in logs  # handed back, not waited out
    assert "Traceback" not in logs


async def test_sigkilled_executor_run_is_resumed_by_another_within_lease_plus_5s(
    functions: Functions, ledger: Path
) -> None:
    async with sdk(functions.intake) as client:
        run, victim = await _held_steps_run(functions, client, ledger)
        killed_at = datetime.now(UTC)
        victim.kill_group()
        in_flight = ledger_lines(ledger)[-1]
        await _assert_taken_over(functions, client, run, victim, "lost")
    assert_only_in_flight_reran(ledger, [in_flight])
    second = (await run_attempts(functions.intake, run))[1]
    takeover = datetime.fromisoformat(second["started_at"]) - killed_at
    assert takeover.total_seconds() <= LEASE_SECONDS + 5


async def test_kafka_stopped_30s_under_load_loses_no_run(
    functions: Functions, tmp_path: Path
) -> None:
    before, during, after = (
        [tmp_path / f"{when}{i}.txt" for i in range(n)]
        for when, n in (("before", 6), ("during", 6), ("after", 2))
    )
    kafka = functions.kafka
    async with sdk(functions.intake) as client:
        runs = await _steps_runs(client, before, sleep=0.25)
        await eventually(
            lambda: all(ledger_lines(path) for path in before), within=60, what="every run start"
        )
        await asyncio.to_thread(kafka.stop)
        try:
            down_since = time.monotonic()
            runs += await _steps_runs(client, during, sleep=0.25)  # intake answers 2xx
            await asyncio.sleep(max(0.0, KAFKA_DOWN_SECONDS - (time.monotonic() - down_since)))
        finally:
            await asyncio.to_thread(kafka.start)
        runs += await _steps_runs(client, after, sleep=0.05)
        results = await _join_all(client, runs)
        statuses = await _statuses(client, runs)
        attempts = [len(await run_attempts(functions.intake, run)) for run in runs]
        await _wait_all_consumed(functions)  # the executors consume run requests again
    assert statuses == ["success"] * len(runs)
    assert results == [{"items": STEP_NAMES}] * len(runs)
    assert attempts == [1] * len(runs)
    for path in before + during + after:
        assert ledger_lines(path) == STEP_NAMES
    assert "Traceback" not in functions.new_logs()


async def test_postgres_restarted_under_load_every_function_recovers_and_no_run_is_lost(
    functions: Functions, postgres: OwnPostgres, tmp_path: Path
) -> None:
    synced = [tmp_path / f"sync{i}.txt" for i in range(3)]
    ledgers = synced + [tmp_path / f"async{i}.txt" for i in range(3)]
    cron_ledger, late_ledger = tmp_path / "cron.txt", tmp_path / "late.txt"
    async with sdk(functions.intake) as client:
        runs = await _steps_runs(client, synced, sleep=0.25, durability="sync")
        runs += await _steps_runs(client, ledgers[3:], sleep=0.25)  # durability "async"
        await eventually(
            lambda: all(len(ledger_lines(path)) >= 2 for path in ledgers),
            within=60,
            what="every run to be under way",
        )
        alive = [s for s in functions.topology.servers.values() if s.proc.poll() is None]
        await asyncio.to_thread(postgres.stop)
        try:
            await asyncio.sleep(POSTGRES_DOWN_SECONDS)
        finally:
            await asyncio.to_thread(postgres.start)
        assert postgres.url == functions.topology.database_url
        for server in alive:
            await eventually(
                partial(_healthy, server), within=60, what="/ok?check_db=1", interval=0.5
            )
        # every function works again: webhooks and cron commit a CloudEvent's effect (the
        # cron's tick creates a run), intake takes a new run, executors run them all
        ended = new_event(RUN_ENDED, "/tests/faults", {"run_id": runs[0]["run_id"]})
        webhooks = await _post_event(functions.topology.servers["webhooks"], "/", ended)
        assert webhooks.status_code == 202, webhooks.text
        thread = await client.threads.create()
        cron = await client.crons.create_for_thread(
            thread["thread_id"],
            "steps",
            schedule="* * * * *",
            input={"items": []},
            config={"configurable": {"ledger": str(cron_ledger)}},
        )
        due = datetime.now(UTC) + timedelta(minutes=2)  # a tick at a time the cron is due
        tick = CloudEvent(
            {**new_event(CRON_TICK, "/tests/faults", {}).get_attributes(), "time": due}
        )
        ticked = await _post_event(functions.topology.servers["cron"], "/", tick)
        assert ticked.status_code == 202, ticked.text
        await client.crons.delete(cron["cron_id"])
        (cron_run,) = await client.runs.list(thread["thread_id"])
        late = await start_run(client, "steps", {"ledger": str(late_ledger)})
        runs += [cron_run, late]
        results = await _join_all(client, runs)
        statuses = await _statuses(client, runs)
    attempts = [len(await run_attempts(functions.intake, run)) for run in runs[: len(ledgers)]]
    assert [s.proc.poll() for s in alive] == [None] * len(alive)  # no function died
    assert statuses == ["success"] * len(runs)
    assert results == [{"items": STEP_NAMES}] * len(runs)
    for path, tries in zip(ledgers, attempts, strict=True):
        assert set(ledger_lines(path)) == set(STEP_NAMES)
        # each attempt resumed where a checkpoint left off, after the previous one stopped
        assert _stretches(ledger_lines(path)) <= tries, (path.name, ledger_lines(path))
    for path in synced:  # checkpointed steps never rerun: at most the one in flight did
        assert sum(n - 1 for n in ledger_counts(path).values()) <= 1
    assert ledger_lines(cron_ledger) == ledger_lines(late_ledger) == STEP_NAMES
