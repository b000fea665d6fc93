"""The Kafka consumer of every function (shared/kafka/consumer.py) against a real broker:
commit after handling, dead letters, pausing when full, and a rebalance losing nothing."""

from __future__ import annotations

import asyncio
import uuid

import orjson
from aiokafka import AIOKafkaProducer
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.formats.json import JSONFormat

from shared.cloud_events.types import CRON_TICK, CRON_TICKS_TOPIC, DEAD_LETTERS_TOPIC, new_event
from shared.config import Settings
from shared.infra.kafka import LocalKafka
from shared.kafka.consumer import EventConsumer
from shared.kafka.producer import EventProducer
from shared.kafka.topics import ensure_topics
from tests.faults.helpers import eventually
from tests.kafka_support import group_lag, read_records


async def _setup(kafka: LocalKafka, **overrides: object) -> tuple[Settings, EventProducer]:
    settings = Settings(
        kafka_bootstrap=kafka.bootstrap,
        kafka_topic_prefix=f"c{uuid.uuid4().hex[:8]}.",
        **overrides,  # type: ignore[arg-type]
    )
    await ensure_topics(settings)
    producer = EventProducer(settings, "/tests")
    await producer.start()
    return settings, producer


def _tick(n: int) -> BaseCloudEvent:
    return new_event(CRON_TICK, "/tests", {"n": n}, partitionkey=f"k{n % 5}")


async def _group_lag(settings: Settings, group: str, topic: str) -> int:
    prefix = settings.kafka_topic_prefix
    return await group_lag(str(settings.kafka_bootstrap), prefix + group, prefix + topic)


async def _dead_letters(settings: Settings, expected: int) -> list[KafkaMessage]:
    topic = settings.kafka_topic_prefix + DEAD_LETTERS_TOPIC
    return await read_records(str(settings.kafka_bootstrap), topic, expected)


async def test_events_are_handled_in_batches_and_committed(kafka: LocalKafka) -> None:
    settings, producer = await _setup(kafka)
    seen: list[int] = []

    async def handle(events: list[BaseCloudEvent]) -> None:
        seen.extend(e.get_data()["n"] for e in events)  # type: ignore[index]

    consumer = EventConsumer(settings, CRON_TICKS_TOPIC, "g", handle, producer)
    await consumer.start()
    try:
        for n in range(30):
            await producer.send(CRON_TICKS_TOPIC, _tick(n))
        await eventually(lambda: len(seen) >= 30, within=30, what="30 events handled")
        assert sorted(seen) == list(range(30))
        lag = await eventually(lambda: _lag_is_zero(settings), within=15, what="offsets committed")
        assert lag
    finally:
        await consumer.stop()
        await producer.stop()


async def _lag_is_zero(settings: Settings) -> bool:
    return await _group_lag(settings, "g", CRON_TICKS_TOPIC) == 0


async def test_failing_and_poison_records_go_to_the_dead_letter_topic(kafka: LocalKafka) -> None:
    settings, producer = await _setup(kafka, kafka_max_deliveries=3)
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handle(events: list[BaseCloudEvent]) -> None:
        for event in events:
            n = event.get_data()["n"]  # type: ignore[index]
            attempts[n] = attempts.get(n, 0) + 1
            if n == 2:
                raise RuntimeError("record 2 always fails")
        handled.extend(e.get_data()["n"] for e in events)  # type: ignore[index]

    consumer = EventConsumer(settings, CRON_TICKS_TOPIC, "g", handle, producer)
    await consumer.start()
    raw = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await raw.start()
    try:
        for n in range(4):
            await producer.send(CRON_TICKS_TOPIC, _tick(n))
        await raw.send_and_wait(settings.kafka_topic_prefix + CRON_TICKS_TOPIC, b"not an event")
        letters = await _dead_letters(settings, 2)
        await eventually(lambda: {0, 1, 3} <= set(handled), within=30, what="others handled")
        assert 2 not in handled and attempts[2] == 3  # kafka_max_deliveries attempts, then out
        failed = [m for m in letters if "ce_type" in m.headers]
        assert len(failed) == 1
        event = from_kafka(failed[0], JSONFormat())
        assert event.get_data() == {"n": 2}
        assert "record 2 always fails" in str(event.get_extension("lgderror"))
        assert event.get_extension("lgdtopic") == settings.kafka_topic_prefix + CRON_TICKS_TOPIC
        poison = next(m for m in letters if "ce_type" not in m.headers)
        assert poison.value == b"not an event"
        assert b"not a CloudEvent" in poison.headers["lgderror"]
        assert event.get_type() == CRON_TICK
        await eventually(lambda: _lag_is_zero(settings), within=15, what="all committed")
    finally:
        await raw.stop()
        await consumer.stop()
        await producer.stop()


async def test_a_full_consumer_leaves_the_backlog_in_kafka(kafka: LocalKafka) -> None:
    settings, producer = await _setup(kafka)
    capacity = 0
    seen: list[int] = []

    async def handle(events: list[BaseCloudEvent]) -> None:
        seen.extend(e.get_data()["n"] for e in events)  # type: ignore[index]

    consumer = EventConsumer(
        settings, CRON_TICKS_TOPIC, "g", handle, producer, capacity=lambda: capacity
    )
    await consumer.start()
    try:
        for n in range(12):
            await producer.send(CRON_TICKS_TOPIC, _tick(n))
        await asyncio.sleep(2.0)  # a consumer with no room fetches nothing
        assert seen == []
        assert await _group_lag(settings, "g", CRON_TICKS_TOPIC) == 12
        capacity = 5
        await eventually(lambda: len(seen) == 12, within=30, what="backlog drained")
        await eventually(lambda: _lag_is_zero(settings), within=15, what="committed")
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_rebalance_loses_nothing(kafka: LocalKafka) -> None:
    settings, producer = await _setup(kafka)
    seen: list[int] = []

    async def handle(events: list[BaseCloudEvent]) -> None:
        await asyncio.sleep(0.02)
        seen.extend(e.get_data()["n"] for e in events)  # type: ignore[index]

    first = EventConsumer(settings, CRON_TICKS_TOPIC, "g", handle, producer)
    second = EventConsumer(settings, CRON_TICKS_TOPIC, "g", handle, producer)
    await first.start()
    try:
        for n in range(100):
            await producer.send(CRON_TICKS_TOPIC, _tick(n))
            if n == 30:
                await second.start()  # the group rebalances while records flow
            if n == 70:
                await first.stop()  # and again: its partitions move to the other member
        await eventually(lambda: set(seen) == set(range(100)), within=60, what="all handled")
        await eventually(lambda: _lag_is_zero(settings), within=15, what="committed")
    finally:
        await second.stop()
        await first.stop()
        await producer.stop()


def test_record_format_is_binary_cloudevents() -> None:
    """The run-requested event as a Kafka record: ``ce_*`` headers (the request context's
    among them), JSON content type, the thread id as the key (so one thread's requests share a
    partition)."""
    from cloudevents.core.bindings.kafka import to_binary

    from shared.cloud_events.types import RUN_REQUESTED, run_requested

    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    context = {"tenant_id": "acme", "request_id": "q1", "traceparent": trace}
    message = to_binary(run_requested("/intake", "r1", "t1", context), JSONFormat())
    assert message.key == "t1"
    assert message.headers["content-type"] == b"application/json"
    assert message.headers["ce_type"] == RUN_REQUESTED.encode()
    assert message.headers["ce_partitionkey"] == b"t1"
    # the request context travels as extensions: tenant, request id, W3C trace
    assert message.headers["ce_tenantid"] == b"acme"
    assert message.headers["ce_requestid"] == b"q1"
    assert message.headers["ce_traceparent"] == trace.encode()
    assert orjson.loads(message.value) == {"run_id": "r1", "thread_id": "t1"}
