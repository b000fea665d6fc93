"""Read a run's stored events for SSE (replay, then follow live) and wait for a run's end.

Any intake replica can serve any run: events come from ``run_events``; ``run.events`` bus
messages only say when to look again. Source: Agent Server API, "SSE wire format" and
"Resumable streams" (``Last-Event-ID``, ``-1`` replays all).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from shared.bus.base import RUN_EVENTS, Bus, Subscription
from shared.db import events as events_db

TERMINAL = ("success", "error", "timeout", "interrupted")
KEEPALIVE_SECONDS = 5.0


class RunWatcher:
    """One ``run.events`` subscription per process, fanned out to per-run waiters."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._done: set[uuid.UUID] = set()
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Subscribe; call once inside the event loop."""
        self._sub = self._bus.subscribe(RUN_EVENTS)
        self._task = asyncio.create_task(self._pump(self._sub))

    async def close(self) -> None:
        """Unsubscribe."""
        if self._task:
            self._task.cancel()
        if self._sub:
            self._sub.close()

    async def _pump(self, sub: Subscription) -> None:
        async for payload in sub:
            if payload is None:
                for events in self._waiters.values():
                    for event in events:
                        event.set()
                continue
            run_id = uuid.UUID(payload["run_id"])
            events = self._waiters.get(run_id, set())
            if not events:
                continue
            if payload.get("done"):
                self._done.add(run_id)
            for event in events:
                event.set()

    def watch(self, run_id: uuid.UUID) -> RunWatch:
        """A handle that is set whenever ``run_id`` has news; close it when done."""
        event = asyncio.Event()
        self._waiters[run_id].add(event)
        return RunWatch(self, run_id, event)

    def _unwatch(self, watch: RunWatch) -> None:
        events = self._waiters.get(watch.run_id)
        if events is not None:
            events.discard(watch.event)
            if not events:
                del self._waiters[watch.run_id]
                self._done.discard(watch.run_id)

    def ended(self, run_id: uuid.UUID) -> bool:
        """Whether a ``done`` message for ``run_id`` arrived while it was watched."""
        return run_id in self._done


@dataclass
class RunWatch:
    """A waiter on one run's news (see :meth:`RunWatcher.watch`)."""

    watcher: RunWatcher
    run_id: uuid.UUID
    event: asyncio.Event

    async def wait(self, seconds: float) -> bool:
        """Wait for news up to ``seconds``; ``True`` if news came."""
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            return False
        self.event.clear()
        return True

    def close(self) -> None:
        """Stop watching."""
        self.watcher._unwatch(self)


async def run_status(pool: asyncpg.Pool, run_id: uuid.UUID) -> str | None:
    """Current status of a run, ``None`` when it no longer exists."""
    return await pool.fetchval("SELECT status FROM runs WHERE run_id = $1", run_id)


async def wait_for_end(
    pool: asyncpg.Pool, watcher: RunWatcher, run_id: uuid.UUID
) -> AsyncIterator[None]:
    """Yield every :data:`KEEPALIVE_SECONDS` while the run is active; return when it ended
    (or was deleted)."""
    watch = watcher.watch(run_id)
    try:
        while True:
            if watcher.ended(run_id) or (await run_status(pool, run_id)) not in (
                "pending",
                "running",
            ):
                return
            if not await watch.wait(KEEPALIVE_SECONDS):
                yield None
    finally:
        watch.close()


@dataclass
class StoredEvent:
    """One event as stored: ``seq`` (the SSE id), ``event`` name and JSON ``data`` text."""

    seq: int
    event: str
    data: str


def mode_of(event: str) -> str:
    """The ``stream_mode`` an event name belongs to (``messages/partial`` → ``messages``)."""
    base = event.split("|", 1)[0]
    if base.startswith("messages/"):
        return "messages"
    if base == "messages":
        return "messages-tuple"
    return base


async def follow_events(
    pool: asyncpg.Pool,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    *,
    after_seq: int | None,
    modes: set[str] | None = None,
) -> AsyncIterator[StoredEvent | None]:
    """Events of ``run_id`` after ``after_seq`` (``None`` = only new ones), until it ends.

    ``modes`` filters by stream mode (``metadata`` and ``error`` always pass). Yields ``None``
    every :data:`KEEPALIVE_SECONDS` of silence, for a heartbeat comment.
    """
    watch = watcher.watch(run_id)
    try:
        if after_seq is None:
            after_seq = await events_db.last_seq(pool, run_id)
        while True:
            ended = watcher.ended(run_id)
            rows = await events_db.read_after(pool, run_id, after_seq)
            for row in rows:
                after_seq = row["seq"]
                name = row["event"]
                if modes is None or name in ("metadata", "error") or mode_of(name) in modes:
                    yield StoredEvent(row["seq"], name, row["data"])
            if rows and len(rows) >= 1000:
                continue
            if ended:
                return
            if not rows and (await run_status(pool, run_id)) not in ("pending", "running"):
                if not await events_db.read_after(pool, run_id, after_seq, 1):
                    return
                continue
            if not await watch.wait(KEEPALIVE_SECONDS):
                yield None
    finally:
        watch.close()
