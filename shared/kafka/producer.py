"""Send CloudEvents to Kafka: binary content mode, idempotent producer, ``acks=all``.

Two ways to send: :meth:`EventProducer.send` waits until the broker has the record (used where
the record itself is the effect: dead letters, cron ticks); :meth:`EventProducer.hint` queues
a wake-up without making the caller wait (run requests and run ends: PostgreSQL already holds
the truth, so a hint lost while Kafka is down costs latency, not work — executors and the
webhook deliverer also sweep PostgreSQL). Hints go out in the order they were queued, so one
thread's records keep their order in its partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import to_binary
from cloudevents.core.formats.json import JSONFormat

from shared.config import Settings
from shared.kafka.health import METADATA_MAX_AGE_MS, PRODUCERS
from shared.kafka.topics import bootstrap_servers, topic_name
from shared.metrics import KAFKA_HINTS_DROPPED

log = logging.getLogger(__name__)

HINT_QUEUE = 10_000
"""Hints waiting to be sent; beyond this they are dropped (counted)."""
HINT_TIMEOUT_SECONDS = 30.0
"""Longest a hint may wait for the broker before it is dropped."""


class EventProducer:
    """One aiokafka producer per process. ``start()``, then ``send``/``hint``, then ``stop()``."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.source = source
        """The CloudEvent ``source`` of the events this process creates."""
        self._settings = settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers(settings),
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=10_000,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        self._hints: asyncio.Queue[tuple[str, BaseCloudEvent]] = asyncio.Queue(HINT_QUEUE)
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (raises ``KafkaError`` when no broker answers) and start the hint sender;
        from then on ``lgd_kafka_up{client="producer"}`` tells whether it is connected."""
        await self._producer.start()
        PRODUCERS.add(self._producer.client)
        self._sender = asyncio.create_task(self._send_hints())

    async def stop(self) -> None:
        """Flush what the producer holds and disconnect; queued hints are dropped."""
        PRODUCERS.discard(self._producer.client)
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        await self._producer.stop()

    async def send(self, suffix: str, event: BaseCloudEvent) -> None:
        """Send ``event`` to the topic ``suffix`` and wait for the broker's ack (all replicas).

        The record key is the event's ``partitionkey`` extension (none: round robin). Raises
        ``KafkaError`` (for example ``KafkaTimeoutError``) when the broker does not take it.
        """
        await (await self._enqueue(suffix, event))

    async def send_raw(
        self, suffix: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        """Send a record as it is (a record that is not a CloudEvent, to the dead letters) and
        wait for the ack; raises ``KafkaError``."""
        await self._producer.send_and_wait(
            topic_name(self._settings, suffix), value=value, key=key, headers=headers
        )

    def hint(self, suffix: str, event: BaseCloudEvent) -> None:
        """Queue ``event`` for the topic ``suffix`` without waiting (see the module docstring)."""
        try:
            self._hints.put_nowait((suffix, event))
        except asyncio.QueueFull:
            KAFKA_HINTS_DROPPED.labels(suffix).inc()

    async def _enqueue(self, suffix: str, event: BaseCloudEvent) -> asyncio.Future[object]:
        """Hand ``event`` to the producer's batch for its partition; the future is the ack."""
        message = to_binary(event, JSONFormat())
        key = message.key.encode() if isinstance(message.key, str) else message.key
        future: asyncio.Future[object] = await self._producer.send(
            topic_name(self._settings, suffix),
            value=message.value,
            key=key,
            headers=list(message.headers.items()),
        )
        return future

    async def _send_hints(self) -> None:
        while True:
            suffix, event = await self._hints.get()
            try:
                async with asyncio.timeout(HINT_TIMEOUT_SECONDS):
                    ack = await self._enqueue(suffix, event)
            except (KafkaError, TimeoutError) as exc:
                _dropped(suffix, exc)
                continue
            ack.add_done_callback(functools.partial(_check_ack, suffix))


def _check_ack(suffix: str, ack: asyncio.Future[object]) -> None:
    if not ack.cancelled() and ack.exception() is not None:
        _dropped(suffix, ack.exception())


def _dropped(suffix: str, exc: BaseException | None) -> None:
    KAFKA_HINTS_DROPPED.labels(suffix).inc()
    log.warning("Kafka hint to %s dropped (PostgreSQL still has it): %r", suffix, exc)
