"""The bus seam: functions publish wake-ups on topics and subscribe to them.

PostgreSQL decides, the bus only wakes: every message is a hint (``run.requested`` → try to
claim; ``run.events`` → read new events; ``run.cancel`` → look at the cancel flag), so a lost or
duplicated message costs latency, never correctness. One implementation is chosen at start-up:
:class:`~shared.bus.inprocess.InProcessBus` (``lg-deploy dev``) or
:class:`~shared.bus.pgnotify.PgNotifyBus` (functions in separate processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol

RUN_REQUESTED = "run.requested"
"""payload ``{"run_id", "thread_id"}``: a run may be claimable now."""
RUN_EVENTS = "run.events"
"""payload ``{"run_id", "seq", "done"}``: events up to ``seq`` are stored; ``done`` = run ended."""
RUN_CANCEL = "run.cancel"
"""payload ``{"run_id", "action"}``: a cancel was recorded for a running run."""
TOPICS = (RUN_REQUESTED, RUN_EVENTS, RUN_CANCEL)

Payload = dict[str, Any]


class Subscription:
    """Messages of one topic for one subscriber, as an async iterator; close when done.

    ``None`` is delivered after a reconnect, when messages may have been missed: the
    subscriber should re-read PostgreSQL.
    """

    def __init__(self, topic: str, on_close: Any) -> None:
        self.topic = topic
        self.queue: asyncio.Queue[Payload | None] = asyncio.Queue()
        self._on_close = on_close

    def __aiter__(self) -> AsyncIterator[Payload | None]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Payload | None]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        """Stop receiving; idempotent."""
        self._on_close(self)


class Bus(Protocol):
    """Publish/subscribe of small JSON payloads on the topics above."""

    async def start(self) -> None:
        """Connect; must be awaited before publish/subscribe."""

    async def close(self) -> None:
        """Disconnect and drop all subscriptions."""

    async def publish(self, topic: str, payload: Payload) -> None:
        """Send ``payload`` to every current subscriber of ``topic`` (best effort)."""

    def subscribe(self, topic: str) -> Subscription:
        """A new :class:`Subscription` to ``topic``."""
        ...


class FanOut:
    """Subscriber bookkeeping shared by the bus implementations."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {t: set() for t in TOPICS}

    def add(self, topic: str) -> Subscription:
        if topic not in self.subscribers:
            raise ValueError(f"unknown bus topic {topic!r}")
        sub = Subscription(topic, self.remove)
        self.subscribers[topic].add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        self.subscribers[sub.topic].discard(sub)

    def deliver(self, topic: str, payload: Payload | None) -> None:
        for sub in self.subscribers.get(topic, ()):
            sub.queue.put_nowait(payload)

    def deliver_all(self, payload: Payload | None) -> None:
        for topic in self.subscribers:
            self.deliver(topic, payload)
