"""The cron function: fires due crons, one tick at a time.

Every CloudEvent it receives is a tick (Knative PingSource's ``dev.knative.sources.ping``,
``dev.lgdeploy.cron.tick``, …): the event's ``time`` is the tick's "now" (the clock when it has
none) and its ``source`` + ``id`` make a redelivery a no-op. Alone (``lg-deploy cron``) it
serves :func:`shared.runtime.internal.cloudevent_app` (internal callers only) and, connected to
Kafka with ``kafka_consumer`` on, consumes the ``cron-ticks`` topic. Inside ``lg-deploy dev``
it has no HTTP surface and ticks on its own timer every ``cron_tick_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from cloudevents.core.base import BaseCloudEvent
from starlette.types import ASGIApp

from shared.cloud_events.types import CRON_TICKS_TOPIC
from shared.db.pool import DB_ERRORS
from shared.kafka.consumer import one_by_one, own_topic_consumer
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.runtime.internal import cloudevent_app
from shared.services.crons import tick

log = logging.getLogger(__name__)


class CronFunction:
    """Ticks from CloudEvents (``app`` and the Kafka topic, when alone) or from a timer
    (inside ``lg-deploy dev``)."""

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.rt = rt
        self.app: ASGIApp | None = cloudevent_app(rt, self.handle) if placement.alone else None
        self._timer: asyncio.Task[None] | None = None
        self._consumer = own_topic_consumer(
            rt.settings, rt.producer, CRON_TICKS_TOPIC, "cron", one_by_one(self.handle)
        )

    async def handle(self, event: BaseCloudEvent) -> None:
        """One tick at ``event``'s time, once per ``source`` + ``id``; raises database errors."""
        key = f"{event.get_source()} {event.get_id()}"
        done = await tick(self.rt, event.get_time() or datetime.now(UTC), key)
        level = logging.INFO if done.fired else logging.DEBUG
        what = "already handled" if done.duplicate else f"fired {len(done.fired)}"
        log.log(level, "cron tick %s at %s: %s", key, done.now.isoformat(), what)

    async def start(self) -> None:
        """Start the timer when there is no CloudEvent source (inside ``lg-deploy dev``), or
        the Kafka consumer."""
        if self.app is None:
            self._timer = asyncio.create_task(self._every(self.rt.settings.cron_tick_seconds))
        if self._consumer is not None:
            await self._consumer.start()
        log.info("lg-deploy cron running (%s)", "CloudEvents" if self.app else "timer")

    async def stop(self) -> None:
        """Stop the timer and the consumer; a tick cut short rolls back and is redone."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer

    async def _every(self, seconds: float) -> None:
        while True:
            try:
                done = await tick(self.rt, datetime.now(UTC))
                if done.fired:
                    log.info("cron tick at %s: fired %d", done.now.isoformat(), len(done.fired))
            except DB_ERRORS as exc:
                log.warning("cron tick failed: %s", exc)
            await asyncio.sleep(seconds)


def build(rt: Runtime, placement: Placement) -> CronFunction:
    """The cron function over ``rt``: CloudEvent-driven when alone, timer-driven in dev."""
    return CronFunction(rt, placement)
