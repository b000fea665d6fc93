"""In-process bus for ``lg-deploy dev``: every function lives in one event loop."""

from __future__ import annotations

from shared.bus.base import FanOut, Payload, Subscription


class InProcessBus:
    """:class:`~shared.bus.base.Bus` over asyncio queues; delivery is immediate and in order."""

    def __init__(self) -> None:
        self._fanout = FanOut()

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Drop every subscription."""
        self._fanout = FanOut()

    async def publish(self, topic: str, payload: Payload) -> None:
        """Deliver ``payload`` to each subscriber of ``topic``."""
        self._fanout.deliver(topic, payload)

    def subscribe(self, topic: str) -> Subscription:
        """A new subscription to ``topic``."""
        return self._fanout.add(topic)
