"""The builder function: builds user repositories ("Deploy from Git") from CloudEvents.

Alone (``lg-deploy builder --database-url …``) it serves :func:`functions.builder.app.create_app`
and, connected to Kafka with ``kafka_consumer`` on, consumes the ``build-requests`` topic; both
go through :func:`functions.builder.handler.handle_build_request`. It has no background work
and nothing to do inside ``lg-deploy dev``, where no build requests arrive.
"""

from __future__ import annotations

import functools
import logging

from starlette.types import ASGIApp

from functions.builder.app import create_app
from functions.builder.handler import handle_build_request
from shared.cloud_events.types import BUILD_REQUESTS_TOPIC
from shared.kafka.consumer import one_by_one, own_topic_consumer
from shared.runtime.context import Runtime
from shared.runtime.function import Placement

log = logging.getLogger(__name__)


class BuilderFunction:
    """Handles build requests from HTTP (``app``) and Kafka, when alone."""

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.rt = rt
        self.app: ASGIApp | None = create_app(rt) if placement.alone else None
        self._consumer = own_topic_consumer(
            rt.settings,
            rt.producer,
            BUILD_REQUESTS_TOPIC,
            "builder",
            one_by_one(functools.partial(handle_build_request, rt)),
            capacity=lambda: 1,  # a build takes seconds or more: commit after each
        )

    async def start(self) -> None:
        """Join the ``build-requests`` consumer group, when consuming Kafka."""
        if self._consumer is not None:
            await self._consumer.start()
        log.info(
            "lg-deploy builder running (work %s, artifacts %s)",
            self.rt.settings.builder_dir,
            self.rt.settings.builder_artifacts_dir,
        )

    async def stop(self) -> None:
        """Leave the consumer group; a build cut short is redone on redelivery."""
        if self._consumer is not None:
            await self._consumer.stop()


def build(rt: Runtime, placement: Placement) -> BuilderFunction:
    """The builder function over ``rt``; it serves HTTP and consumes Kafka only when alone."""
    return BuilderFunction(rt, placement)
