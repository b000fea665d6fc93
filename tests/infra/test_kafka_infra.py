"""The project's own Kafka (``shared/infra/kafka.sh`` + ``LocalKafka``) against a real broker."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from shared.infra.kafka import SCRIPT, LocalKafka
from tests.faults.helpers import eventually
from tests.kafka_support import new_topics


def status(dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "status", "--dir", str(dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def produce(bootstrap: str, topic: str, values: list[str]) -> None:
    """Idempotent producer, acks=all, one key and CloudEvents-style headers per record."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(
                topic, value.encode(), key=b"thread-1", headers=[("ce_id", value.encode())]
            )
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str, group: str, count: int) -> list[ConsumerRecord]:
    """Read ``count`` records as a member of ``group``, commit them, leave the group."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(60):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
        await consumer.commit()
        assert not await consumer.getmany(timeout_ms=300), "more records than expected"
    finally:
        await consumer.stop()
    return records


async def committed_total(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values())


def test_start_again_is_a_no_op_on_the_same_process(kafka: LocalKafka) -> None:
    pid = kafka.pid()
    assert pid is not None
    assert kafka.start() == kafka.bootstrap == f"127.0.0.1:{kafka.port}"
    assert kafka.pid() == pid
    done = status(kafka.dir)
    assert (done.returncode, done.stdout.split()[0]) == (0, "running")


async def test_records_round_trip_with_headers_and_a_committed_group(kafka: LocalKafka) -> None:
    topic = await new_topics(kafka.bootstrap, "events") + "events"
    await produce(kafka.bootstrap, topic, ["a", "b", "c"])
    records = await consume(kafka.bootstrap, topic, topic + ".group", 3)
    assert [(r.key, r.value, r.headers) for r in records] == [
        (b"thread-1", v.encode(), (("ce_id", v.encode()),)) for v in "abc"
    ]
    assert await committed_total(kafka.bootstrap, topic + ".group") == 3


async def test_stop_then_start_keeps_topics_and_committed_offsets(kafka: LocalKafka) -> None:
    topic = await new_topics(kafka.bootstrap, "paused") + "paused"
    group = topic + ".group"
    await produce(kafka.bootstrap, topic, ["1", "2"])
    await consume(kafka.bootstrap, topic, group, 2)

    await asyncio.to_thread(kafka.stop)
    assert not kafka.running()
    assert status(kafka.dir).returncode == 3
    await asyncio.to_thread(kafka.stop)  # stopping a stopped broker is fine
    assert await asyncio.to_thread(kafka.start) == kafka.bootstrap

    # the restarted coordinator loads the committed offsets in the background: until then a
    # group reads as having none
    async def committed() -> int:
        return await committed_total(kafka.bootstrap, group)

    assert await eventually(committed, within=30, what="the group's offsets after restart") == 2
    await produce(kafka.bootstrap, topic, ["3"])
    assert [r.value for r in await consume(kafka.bootstrap, topic, group, 1)] == [b"3"]


def test_a_folder_never_started_is_stopped(tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path / "none", 1)
    done = status(broker.dir)
    assert (done.returncode, done.stdout.strip()) == (3, "stopped")
    broker.stop()
    assert not broker.running() and broker.pid() is None


def test_a_taken_port_fails_clearly_naming_the_log(kafka: LocalKafka, tmp_path: Path) -> None:
    other = LocalKafka(tmp_path / "other", kafka.port)
    with pytest.raises(RuntimeError, match=f"port {kafka.port} .* in use") as error:
        other.start(timeout=30)
    assert str(other.log) in str(error.value)
    assert kafka.running()
