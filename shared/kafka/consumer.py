"""Consume CloudEvents from one lg-deploy topic in a consumer group, at least once.

The loop fetches a batch, hands its events to the function's handler and commits the batch's
offsets only after the handler returned, that is after its effect (a claim, a tick, a build
record) is durable in PostgreSQL. A failing batch is retried record by record with backoff; a
record that still fails after ``kafka_max_deliveries`` attempts, or that is not a CloudEvent,
goes to the dead-letter topic with the error (``lgderror``) and the topic it came from
(``lgdtopic``), and is committed. After a rebalance, records whose offsets were not committed
are fetched again by the partition's new owner: handlers are idempotent, so a rebalance never
loses or repeats an effect.

``capacity`` (optional) bounds how many records one fetch may return; while it is ``0`` every
assigned partition is paused, so unfetched records stay in Kafka as consumer lag (what KEDA's
``kafka`` trigger reads) and the group membership stays alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat

from shared.cloud_events.types import DEAD_LETTERS_TOPIC, with_extensions
from shared.config import Settings
from shared.kafka.health import CONSUMERS, METADATA_MAX_AGE_MS
from shared.kafka.producer import EventProducer
from shared.kafka.topics import bootstrap_servers, topic_name
from shared.metrics import DEAD_LETTERS, KAFKA_CONSUMER_LAG

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[BaseCloudEvent]], Awaitable[None]]
"""Applies a batch of events (in offset order per partition); raises when it could not."""

MAX_BATCH = 100
LAG_EVERY_SECONDS = 5.0
IDLE_POLL_MS = 500


def backoff_seconds(attempt: int) -> float:
    """Wait before attempt ``attempt`` (2, 3, …) of a failing record: 0.25 s doubling, ≤ 5 s."""
    return float(min(5.0, 0.25 * 2 ** (attempt - 2)))


class EventConsumer:
    """A consumer of ``kafka_topic_prefix + topic`` in group ``kafka_topic_prefix + group``.

    ``start()`` joins the group (raises ``KafkaError`` when no broker answers); ``stop()``
    leaves it, uncommitted records going to the partitions' next owner.
    """

    def __init__(
        self,
        settings: Settings,
        topic: str,
        group: str,
        handle: BatchHandler,
        producer: EventProducer,
        capacity: Callable[[], int] | None = None,
    ) -> None:
        self.topic = topic_name(settings, topic)
        self.group = topic_name(settings, group)
        self._settings = settings
        self._handle = handle
        self._producer = producer
        self._capacity = capacity or (lambda: MAX_BATCH)
        self._consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=bootstrap_servers(settings),
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        self._tasks: list[asyncio.Task[None]] = []
        DEAD_LETTERS.labels(self.topic)  # the series exists (at 0) before the first one

    async def start(self) -> None:
        """Join the consumer group and start fetching; from then on
        ``lgd_kafka_up{client="consumer"}`` counts this consumer's connection."""
        await self._consumer.start()
        CONSUMERS.add(self._consumer._client)
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"consume-{self.topic}"),
            asyncio.create_task(self._measure_lag(), name=f"lag-{self.topic}"),
        ]

    async def stop(self) -> None:
        """Stop fetching (a batch being handled is cancelled, uncommitted) and leave the group."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        CONSUMERS.discard(self._consumer._client)
        await self._consumer.stop()

    async def _loop(self) -> None:
        while True:
            try:
                await self._fetch_and_handle()
            except KafkaError as exc:
                log.warning("consuming %s failed: %r; retrying", self.topic, exc)
                await asyncio.sleep(1.0)

    async def _fetch_and_handle(self) -> None:
        limit = min(self._capacity(), MAX_BATCH)
        consumer = self._consumer
        if limit <= 0:
            consumer.pause(*consumer.assignment())
            await consumer.getmany(timeout_ms=IDLE_POLL_MS)  # keeps the membership alive
            return
        consumer.resume(*consumer.paused())
        fetched = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=limit)
        records = [r for batch in fetched.values() for r in batch]
        if not records:
            return
        try:
            await self._apply(records)
        except BaseException:
            for tp, batch in fetched.items():  # fetch them again next time
                with contextlib.suppress(KafkaError, AssertionError):
                    consumer.seek(tp, batch[0].offset)
            raise
        with contextlib.suppress(KafkaError):  # a rebalance took the partition: redelivered
            await consumer.commit({tp: batch[-1].offset + 1 for tp, batch in fetched.items()})

    async def _apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle ``records``; afterwards each one is handled or dead-lettered."""
        events: list[tuple[ConsumerRecord[bytes, bytes], BaseCloudEvent]] = []
        for record in records:
            try:
                events.append((record, _decode(record)))
            except (BaseCloudEventException, ValueError, TypeError, KeyError) as exc:
                await self._dead_letter_raw(record, f"not a CloudEvent: {exc}")
        if not events:
            return
        try:
            await self._handle([event for _, event in events])
            return
        except Exception as exc:  # any handler failure: retried per record
            log.warning("handling %d records of %s failed: %r", len(events), self.topic, exc)
        for record, event in events:
            await self._retry(record, event)

    async def _retry(self, record: ConsumerRecord[bytes, bytes], event: BaseCloudEvent) -> None:
        attempts = self._settings.kafka_max_deliveries
        error: Exception | None = None
        for attempt in range(2, attempts + 1):
            await asyncio.sleep(backoff_seconds(attempt))
            try:
                await self._handle([event])
                return
            except Exception as exc:  # counted, then dead-lettered
                error = exc
                log.warning(
                    "record %s@%d attempt %d/%d failed: %r",
                    record.topic,
                    record.offset,
                    attempt,
                    attempts,
                    exc,
                )
        await self._dead_letter(record, event, repr(error))

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], event: BaseCloudEvent, error: str
    ) -> None:
        annotated = with_extensions(event, lgderror=error[:2000], lgdtopic=record.topic)
        await self._producer.send(DEAD_LETTERS_TOPIC, annotated)
        DEAD_LETTERS.labels(record.topic).inc()
        log.error("record %s@%d dead-lettered: %s", record.topic, record.offset, error)

    async def _dead_letter_raw(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        headers = [
            *record.headers,
            ("lgderror", error[:2000].encode()),
            ("lgdtopic", record.topic.encode()),
        ]
        await self._producer.send_raw(DEAD_LETTERS_TOPIC, record.key, record.value, headers)
        DEAD_LETTERS.labels(record.topic).inc()
        log.error("record %s@%d dead-lettered: %s", record.topic, record.offset, error)

    async def _measure_lag(self) -> None:
        """Set ``lgd_kafka_consumer_lag`` to end offsets minus committed offsets of the
        partitions this member holds, every :data:`LAG_EVERY_SECONDS`."""
        gauge = KAFKA_CONSUMER_LAG.labels(self.topic, self.group)
        while True:
            await asyncio.sleep(LAG_EVERY_SECONDS)
            try:
                gauge.set(await self.lag())
            except KafkaError as exc:
                log.debug("measuring lag of %s failed: %r", self.topic, exc)

    async def lag(self) -> int:
        """Records of the assigned partitions not yet committed by the group."""
        assigned: list[TopicPartition] = list(self._consumer.assignment())
        if not assigned:
            return 0
        ends = await self._consumer.end_offsets(assigned)
        total = 0
        for tp in assigned:
            committed = await self._consumer.committed(tp) or 0
            total += max(0, ends[tp] - committed)
        return total


def one_by_one(handle: Callable[[BaseCloudEvent], Awaitable[object]]) -> BatchHandler:
    """A batch handler that applies ``handle`` to each event in turn."""

    async def each(events: list[BaseCloudEvent]) -> None:
        for event in events:
            await handle(event)

    return each


def own_topic_consumer(
    settings: Settings,
    producer: EventProducer | None,
    topic: str,
    group: str,
    handle: BatchHandler,
    capacity: Callable[[], int] | None = None,
) -> EventConsumer | None:
    """The consumer of a CloudEvent function's own topic (cron, webhooks, builder), or None
    when the process is not connected to Kafka (no ``producer``) or ``kafka_consumer`` is off
    (on Knative a KafkaSource or PingSource delivers to the function's ``POST /`` instead)."""
    if producer is None or not settings.kafka_consumer:
        return None
    return EventConsumer(settings, topic, group, handle, producer, capacity)


def _decode(record: ConsumerRecord[bytes, bytes]) -> BaseCloudEvent:
    headers = {name: value for name, value in record.headers}
    message = KafkaMessage(headers=headers, key=record.key, value=record.value or b"")
    return from_kafka(message, JSONFormat())
