"""The bus of functions connected by Kafka: PostgreSQL LISTEN/NOTIFY for the fan-out wake-ups
every process needs (stream events, cancels, thread hand-offs), Kafka for run requests.

A ``run.requested`` message that names a run (a run was created, released or retried now) is
also sent as a ``dev.lgdeploy.run.requested`` CloudEvent to the ``run-requests`` topic, keyed by
thread id; executors consume that topic in one consumer group instead of reacting to the NOTIFY,
so runs waiting for an executor show as consumer lag (what KEDA scales on). Delayed runs
(``after_seconds``, retry backoff) stay with the executors' timers.
"""

from __future__ import annotations

from shared.bus.base import RUN_REQUESTED, Bus, Payload, Subscription
from shared.cloud_events.types import RUN_REQUESTS_TOPIC, run_requested
from shared.kafka.producer import EventProducer


def names_a_run(payload: Payload) -> bool:
    """Whether a ``run.requested`` payload goes to Kafka (it names a run claimable now)."""
    return "run_id" in payload and not payload.get("delayed")


class KafkaBus:
    """:class:`~shared.bus.base.Bus` that forwards run requests to Kafka as well as to
    ``inner`` (the LISTEN/NOTIFY bus, which keeps serving every other topic)."""

    def __init__(self, inner: Bus, producer: EventProducer) -> None:
        self._inner = inner
        self._producer = producer

    async def start(self) -> None:
        """Start the inner bus (the producer is started by its owner)."""
        await self._inner.start()

    async def close(self) -> None:
        """Close the inner bus."""
        await self._inner.close()

    async def publish(self, topic: str, payload: Payload) -> None:
        """Publish on the inner bus; a run request that names a run also goes to Kafka, with
        the request context it carries as CloudEvent extensions."""
        if topic == RUN_REQUESTED and names_a_run(payload):
            run_id = str(payload["run_id"])
            thread_id = str(payload.get("thread_id") or run_id)
            event = run_requested(self._producer.source, run_id, thread_id, payload)
            self._producer.hint(RUN_REQUESTS_TOPIC, event)
        await self._inner.publish(topic, payload)

    def subscribe(self, topic: str) -> Subscription:
        """A subscription on the inner bus."""
        return self._inner.subscribe(topic)
