"""A real Kafka for tests (``shared/infra/kafka.sh``) and topics private to one test."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cloudevents.core.bindings.kafka import KafkaMessage

from shared.infra.kafka import LocalKafka
from tests.support import free_ports


@contextmanager
def kafka_broker(prefix: str = "kafka") -> Iterator[LocalKafka]:
    """A running single-node Kafka on free ports in a fresh temp folder; stopped and removed on
    exit. The broker also stops by itself if this process dies (``--owner-pid``)."""
    base = Path(tempfile.mkdtemp(prefix=f"lgd-{prefix}-"))
    port = free_ports(2)  # the listener, then its controller's
    broker = LocalKafka(base / "kafka", port, port + 1, owner_pid=os.getpid())
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(base, ignore_errors=True)


async def new_topics(bootstrap: str, *suffixes: str, partitions: int = 3) -> str:
    """Create the topics ``<prefix><suffix>`` (``partitions`` each, replication 1) under a fresh
    prefix such as ``"t-1f0c2a9b3d."``, and return that prefix."""
    prefix = f"t-{uuid.uuid4().hex[:10]}."
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(prefix + s, partitions, 1) for s in suffixes]
        )
    finally:
        await admin.close()
    failed = [error for error in response.topic_errors if error[1]]  # (topic, code, message, …)
    if failed:
        raise RuntimeError(f"create_topics failed: {failed}")
    return prefix


async def read_records(bootstrap: str, topic: str, count: int) -> list[KafkaMessage]:
    """The first ``count`` records of ``topic`` as CloudEvents-binding messages (read without a
    consumer group, from the beginning); fails after 30 s."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[KafkaMessage] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    found += [KafkaMessage(dict(r.headers), r.key, r.value or b"") for r in batch]
    finally:
        await consumer.stop()
    return found


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` (all partitions) that consumer group ``group`` has not committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        (described,) = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        ends = await probe.end_offsets(partitions)
        return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions)
    finally:
        await probe.stop()
        await admin.close()
