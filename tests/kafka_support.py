"""A real Kafka for tests (``shared/infra/kafka.sh``) and topics private to one test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.infra.kafka import LocalKafka
from tests.support import free_port


@contextmanager
def kafka_broker(prefix: str = "kafka") -> Iterator[LocalKafka]:
    """A running single-node Kafka on free ports in a fresh temp folder; stopped and removed on
    exit. The broker also stops by itself if this process dies (``--owner-pid``)."""
    base = Path(tempfile.mkdtemp(prefix=f"lgd-{prefix}-"))
    port = free_port()
    controller_port = free_port()
    while controller_port == port:
        controller_port = free_port()
    broker = LocalKafka(base / "kafka", port, controller_port, owner_pid=os.getpid())
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
