"""The webhook function: delivers run-end webhooks from the PostgreSQL outbox.

Its deliverer claims due deliveries, woken by run ends (LISTEN/NOTIFY, or in ``lg-deploy dev``
the in-process bus) and by its own timer. Alone (``lg-deploy webhooks``) it also serves
:func:`shared.runtime.internal.cloudevent_app`, where a KafkaSource or PingSource delivers
CloudEvents, and, connected to Kafka with ``kafka_consumer`` on, consumes the ``run-lifecycle``
topic itself. Any number of instances may run at once.
"""

from __future__ import annotations

import logging

from cloudevents.core.base import BaseCloudEvent
from starlette.types import ASGIApp

from functions.webhooks.deliverer import Deliverer
from shared.cloud_events.http import check_type
from shared.cloud_events.types import CRON_TICK, PING, RUN_ENDED, RUN_LIFECYCLE_TOPIC
from shared.db import outbox
from shared.kafka.consumer import own_topic_consumer
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.runtime.internal import cloudevent_app

log = logging.getLogger(__name__)

ACCEPTED = (RUN_ENDED, CRON_TICK, PING)
"""CloudEvent types that make the function deliver what is due."""


class WebhooksFunction:
    """A :class:`Deliverer` over the runtime's database and bus; when the database is this
    process's alone (a restart of ``lg-deploy dev`` after a crash), the leases left behind
    are ended first instead of waited out."""

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.deliverer = Deliverer(rt)
        self._rt = rt
        self._owns_database = placement.owns_database
        self.app: ASGIApp | None = cloudevent_app(rt, self.handle) if placement.alone else None
        self._consumer = own_topic_consumer(
            rt.settings, rt.producer, RUN_LIFECYCLE_TOPIC, "webhooks", self._on_batch
        )

    async def handle(self, event: BaseCloudEvent) -> None:
        """Deliver the webhooks due now for a run-ended event or a tick; InvalidEvent for any
        other type."""
        check_type(event, ACCEPTED)
        await self.deliverer.deliver_due()

    async def _on_batch(self, events: list[BaseCloudEvent]) -> None:
        if any(e.get_type() in ACCEPTED for e in events):
            await self.deliverer.deliver_due()

    async def start(self) -> None:
        """End stale leases if the database is ours alone, then start claiming (and consuming)."""
        if self._owns_database:
            await outbox.expire_leases(self._rt.db.pool)
        await self.deliverer.start()
        if self._consumer is not None:
            await self._consumer.start()
        log.info("lg-deploy webhooks deliverer %s running", self.deliverer.deliverer_id)

    async def stop(self) -> None:
        """Stop; deliveries in flight are handed back."""
        if self._consumer is not None:
            await self._consumer.stop()
        await self.deliverer.stop()


def build(rt: Runtime, placement: Placement) -> WebhooksFunction:
    """The webhook function over ``rt``; ``placement.owns_database`` ends stale leases."""
    return WebhooksFunction(rt, placement)
