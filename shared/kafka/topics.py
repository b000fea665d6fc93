"""Kafka topic names and their creation.

Every topic is ``settings.kafka_topic_prefix`` + a suffix from
:data:`shared.cloud_events.types.TOPICS`; consumer groups are named the same way
(``lg-deploy.executors`` …). Functions create missing topics at start-up (an existing topic is
left as it is), so a fresh cluster needs no manual step.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.cloud_events.types import RUN_REQUESTS_TOPIC, TOPICS
from shared.config import Settings

log = logging.getLogger(__name__)

PARTITIONS = {RUN_REQUESTS_TOPIC: 12}
"""Partitions per topic suffix; others get :data:`DEFAULT_PARTITIONS`. Run requests get more so
executors share them (a partition feeds one consumer of a group at a time)."""
DEFAULT_PARTITIONS = 3


def topic_name(settings: Settings, suffix: str) -> str:
    """The full topic (or consumer group) name for ``suffix``."""
    return settings.kafka_topic_prefix + suffix


def bootstrap_servers(settings: Settings) -> list[str]:
    """``settings.kafka_bootstrap`` as a list; ValueError when Kafka is not configured."""
    if not settings.kafka_bootstrap:
        raise ValueError("Kafka is not configured (--kafka-bootstrap / LG_DEPLOY_KAFKA_BOOTSTRAP)")
    return [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()]


async def ensure_topics(settings: Settings, replication_factor: int = 1) -> None:
    """Create every lg-deploy topic that does not exist yet.

    Raises aiokafka's ``KafkaError`` subclasses when the cluster is unreachable.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                topic_name(settings, suffix),
                PARTITIONS.get(suffix, DEFAULT_PARTITIONS),
                replication_factor,
            )
            for suffix in TOPICS
            if topic_name(settings, suffix) not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another function created them first
            log.info("created Kafka topics %s", [t.name for t in wanted])
    finally:
        await admin.close()
