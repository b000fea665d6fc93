"""Read stored events for SSE (replay, then follow live) and wait for a run's end.

Any intake replica can serve any run: events come from ``run_events``; bus messages only say
when to look again (``run.events`` for a run's new events and its end, ``run.requested`` for a
thread's new runs). Source: Agent Server API, "SSE wire format" (run and thread streams) and
"Resumable streams" (``Last-Event-ID``, ``-1`` replays all).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import get_args

import asyncpg
import orjson

from shared.api.common import StreamMode
from shared.bus.base import RUN_EVENTS, RUN_REQUESTED, Bus, Payload, Subscription
from shared.db import events as events_db
from shared.db import runs as runs_db
from shared.errors import Invalid

KEEPALIVE_SECONDS = 5.0
READ_BATCH = 1000
MAX_EVENT_SEQ = 2**31 - 1
"""``run_events.seq`` is an ``integer``: a later id names no stored event."""
MAX_RUN_SEQ = 2**63 - 1
"""``runs.seq`` is a ``bigint``."""


class RunWatcher:
    """The process's bus subscriptions, fanned out to waiters keyed by run or thread id.

    ``run.events`` messages wake the waiters of their ``run_id``, ``run.requested`` messages
    those of their ``thread_id``. A bus reconnect (``None``) wakes everyone.
    """

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._waiters: dict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._done: set[uuid.UUID] = set()
        self._subs: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Subscribe; call once inside the event loop."""
        for topic, key in ((RUN_EVENTS, "run_id"), (RUN_REQUESTED, "thread_id")):
            sub = self._bus.subscribe(topic)
            self._subs.append(sub)
            self._tasks.append(asyncio.create_task(self._pump(sub, key)))

    async def close(self) -> None:
        """Unsubscribe."""
        for task in self._tasks:
            task.cancel()
        for sub in self._subs:
            sub.close()

    async def _pump(self, sub: Subscription, key: str) -> None:
        async for payload in sub:
            if payload is None:
                for events in self._waiters.values():
                    for event in events:
                        event.set()
            else:
                self._deliver(payload, key)

    def _deliver(self, payload: Payload, key: str) -> None:
        raw = payload.get(key)
        if raw is None:
            return
        target = uuid.UUID(raw)
        events = self._waiters.get(target)
        if not events:
            return
        if payload.get("done"):
            self._done.add(target)
        for event in events:
            event.set()

    def watch(self, *keys: uuid.UUID) -> RunWatch:
        """A handle that is set whenever one of ``keys`` has news; close it when done."""
        watch = RunWatch(self, asyncio.Event())
        for key in keys:
            watch.add(key)
        return watch

    def _register(self, key: uuid.UUID, event: asyncio.Event) -> None:
        self._waiters[key].add(event)

    def _unregister(self, key: uuid.UUID, event: asyncio.Event) -> None:
        events = self._waiters.get(key)
        if events is not None:
            events.discard(event)
            if not events:
                del self._waiters[key]
                self._done.discard(key)

    def ended(self, run_id: uuid.UUID) -> bool:
        """Whether a ``done`` message for ``run_id`` arrived while it was watched."""
        return run_id in self._done


@dataclass
class RunWatch:
    """A waiter on news about some run and thread ids (see :meth:`RunWatcher.watch`)."""

    watcher: RunWatcher
    event: asyncio.Event
    keys: set[uuid.UUID] = field(default_factory=set)

    def add(self, key: uuid.UUID) -> None:
        """Also wake on news about ``key`` (a run id or a thread id)."""
        self.keys.add(key)
        self.watcher._register(key, self.event)

    def discard(self, key: uuid.UUID) -> None:
        """Stop waking on ``key``."""
        if key in self.keys:
            self.keys.discard(key)
            self.watcher._unregister(key, self.event)

    async def wait(self, seconds: float) -> bool:
        """Wait for news up to ``seconds``; ``True`` if news came."""
        try:
            async with asyncio.timeout(seconds):
                await self.event.wait()
        except TimeoutError:
            return False
        self.event.clear()
        return True

    def close(self) -> None:
        """Stop watching."""
        for key in list(self.keys):
            self.discard(key)


async def wait_for_end(
    pool: asyncpg.Pool, watcher: RunWatcher, run_id: uuid.UUID
) -> AsyncIterator[None]:
    """Yield every :data:`KEEPALIVE_SECONDS` of wall-clock time while the run is active,
    however busy it is (the official server's ``/runs/wait`` and ``/join`` write their
    keep-alive newline on that clock, so a proxy's idle cut never sees a silent connection);
    return when it ended (or was deleted).

    The status is read once (after the watch is registered, so no end can slip by); then the
    run's ``done`` message ends the wait, and the status is read again at each keep-alive, in
    case that message was lost: one read per waiter every :data:`KEEPALIVE_SECONDS`, never
    per event.
    """
    loop = asyncio.get_running_loop()
    watch = watcher.watch(run_id)
    try:
        active = (await runs_db.status_of(pool, run_id)) in runs_db.ACTIVE
        beat = loop.time() + KEEPALIVE_SECONDS
        while active and not watcher.ended(run_id):
            if await watch.wait(max(beat - loop.time(), 0.0)):
                continue
            yield None
            beat = loop.time() + KEEPALIVE_SECONDS
            active = (await runs_db.status_of(pool, run_id)) in runs_db.ACTIVE
    finally:
        watch.close()


@dataclass
class StoredEvent:
    """One event as sent: ``seq`` (the SSE id), ``event`` name and JSON ``data`` text."""

    seq: int
    event: str
    data: str


RUN_NOT_FOUND = {"error": "HTTPException", "message": "404: Run not found"}
"""How the official server's joins (``GET /threads/{tid}/runs/{rid}/join`` and ``/stream``)
answer for a run that does not exist (any more: a stateless run goes with its thread at its
end): HTTP 200 with this error, as the ``__error__`` of the join's body or as the ``error``
event of the join stream, not an HTTP 404 (the official SDKs return and yield it)."""


async def run_not_found_stream() -> AsyncIterator[StoredEvent]:
    """The join stream of a run that does not exist: one ``error`` event,
    :data:`RUN_NOT_FOUND`."""
    yield StoredEvent(0, "error", orjson.dumps(RUN_NOT_FOUND).decode())


def requested_modes(values: Iterable[str] | None) -> set[str] | None:
    """The modes of a ``stream_mode`` query: repeated, comma separated or a JSON array.

    ``None`` (no filter) when none are given. Raises :class:`Invalid` on a malformed array.
    """
    modes: set[str] = set()
    for value in values or ():
        if value.startswith("["):
            try:
                items = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise Invalid(f"stream_mode {value!r} is not a JSON array") from exc
            if not isinstance(items, list) or not all(isinstance(m, str) for m in items):
                raise Invalid(f"stream_mode {value!r} is not a list of modes")
            modes.update(items)
        else:
            modes.update(m.strip() for m in value.split(",") if m.strip())
    return modes or None


async def _run_event_batches(
    pool: asyncpg.Pool, watcher: RunWatcher, run_id: uuid.UUID, after_seq: int | None
) -> AsyncIterator[list[StoredEvent] | None]:
    """Every stored event of ``run_id`` after ``after_seq`` (``None``: only new ones) until
    the run ends, one list per read; ``None`` after each :data:`KEEPALIVE_SECONDS` of silence.

    A run's events are all stored before its status turns terminal, so a terminal status seen
    before a read means that read is the last one needed.
    """
    watch = watcher.watch(run_id)
    try:
        if after_seq is None:
            after_seq = await events_db.last_seq(pool, run_id)
        after_seq = min(after_seq, MAX_EVENT_SEQ)
        ended = (await runs_db.status_of(pool, run_id)) not in runs_db.ACTIVE
        while True:
            ended = ended or watcher.ended(run_id)
            rows = await events_db.read_after(pool, run_id, after_seq, READ_BATCH)
            if rows:
                after_seq = rows[-1]["seq"]
                yield [StoredEvent(r["seq"], r["event"], r["data"]) for r in rows]
            if len(rows) == READ_BATCH:
                continue
            if ended:
                return
            if not await watch.wait(KEEPALIVE_SECONDS):
                yield None
                # a quiet run may have ended while a bus message was lost
                ended = (await runs_db.status_of(pool, run_id)) not in runs_db.ACTIVE
    finally:
        watch.close()


def _keeps(event: StoredEvent, modes: set[str] | None) -> bool:
    """Whether a joined stream filtered by ``modes`` sends ``event``, as the official server
    decides: its name (``metadata`` and ``error`` included) or the mode before ``|`` is asked
    for, and either messages mode asks for every ``messages*`` event. No filter sends all."""
    if modes is None:
        return True
    name = event.event
    if name in modes or name.split("|", 1)[0] in modes:
        return True
    return bool(modes & {"messages", "messages-tuple"}) and name.startswith("messages")


async def follow_event_batches(
    pool: asyncpg.Pool,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    *,
    after_seq: int | None,
    modes: set[str] | None = None,
) -> AsyncIterator[list[StoredEvent] | None]:
    """Events of ``run_id`` after ``after_seq`` (``None`` = only new ones), until it ends, in
    the batches they were read (one SSE write each).

    Serves ``POST .../runs/stream`` (``after_seq=0``) and ``GET .../runs/{run_id}/stream``
    (``Last-Event-ID``). ``modes`` filters by stream mode (see :func:`_keeps`). Yields
    ``None`` every :data:`KEEPALIVE_SECONDS` of silence, for a heartbeat comment. Returns at
    once for a run that already ended when nothing is left to replay.
    """
    async for batch in _run_event_batches(pool, watcher, run_id, after_seq):
        if batch is None:
            yield None
            continue
        kept = [event for event in batch if _keeps(event, modes)]
        if kept:
            yield kept


async def follow_events(
    pool: asyncpg.Pool,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    *,
    after_seq: int | None,
    modes: set[str] | None = None,
) -> AsyncIterator[StoredEvent | None]:
    """:func:`follow_event_batches` one event at a time."""
    async for batch in follow_event_batches(
        pool, watcher, run_id, after_seq=after_seq, modes=modes
    ):
        if batch is None:
            yield None
        else:
            for event in batch:
                yield event


THREAD_STREAM_MODES = ("run_modes", "lifecycle", "state_update")
RUN_EVENT_MODES = (*get_args(StreamMode), "metadata", "error")
"""Run stream modes, and the event names a joined run stream may be filtered by."""
RUN_SHIFT = 32
"""Thread stream ids are ``runs.seq << RUN_SHIFT | event seq`` (event seqs are int32)."""


def thread_stream_modes(values: Iterable[str] | None) -> set[str]:
    """The modes of ``GET /threads/{thread_id}/stream`` (default ``{"run_modes"}``): the
    thread stream modes (:data:`THREAD_STREAM_MODES`) and, beyond the official server, the run
    stream modes (:data:`RUN_EVENT_MODES`), which keep only the run events of those modes.

    Raises :class:`Invalid` for any other name, with the official server's detail.
    """
    modes = requested_modes(values) or {"run_modes"}
    for mode in sorted(modes):
        if mode not in THREAD_STREAM_MODES and mode not in RUN_EVENT_MODES:
            raise Invalid(f"Invalid stream mode: {mode}")
    return modes


def _not_an_event_id(value: str | None) -> Invalid:
    return Invalid(f"Last-Event-ID {value!r} is not an event id")


def _event_id(last_event_id: str | None, from_start: tuple[str, ...]) -> int | None:
    """A ``Last-Event-ID`` as a position: ``None`` when absent (live), ``0`` for a
    from-the-start token, else the integer id. Raises :class:`Invalid` for anything else."""
    if not last_event_id:
        return None
    if last_event_id in from_start:
        return 0
    try:
        return int(last_event_id)
    except ValueError as exc:
        raise _not_an_event_id(last_event_id) from exc


def run_cursor(last_event_id: str | None) -> int | None:
    """The event seq a run stream resumes after: ``None`` (live), ``0`` for ``-1`` (replay
    all), else the id; an id of the official dev server's ``<n>-<m>`` form resumes after ``n``.
    Raises :class:`Invalid` for a malformed id."""
    if last_event_id and last_event_id != "-1" and last_event_id.count("-") == 1:
        head = last_event_id.split("-", 1)[0]
        if not head:
            raise _not_an_event_id(last_event_id)
        last_event_id = head
    return _event_id(last_event_id, ("-1",))


def thread_cursor(last_event_id: str | None) -> int | None:
    """The position a thread stream resumes after: ``None`` (live), ``0`` for ``-1``/``-``
    (from the first run), else the id itself. Raises :class:`Invalid` for a malformed id."""
    cursor = _event_id(last_event_id, ("-1", "-"))
    if cursor is not None and (cursor < 0 or cursor >> RUN_SHIFT > MAX_RUN_SEQ):
        raise _not_an_event_id(last_event_id)
    return cursor


def _thread_keeps(event: StoredEvent, modes: set[str]) -> bool:
    """Whether a thread stream of ``modes`` sends ``event``: ``run_modes`` every event,
    ``lifecycle`` the ``metadata`` events (run starts and ``run_done`` markers),
    ``state_update`` those events, and run stream modes the run events a joined run stream
    filtered by them sends (:func:`_keeps`)."""
    if "run_modes" in modes:
        return True
    if event.event == "metadata" and "lifecycle" in modes:
        return True
    if event.event == "state_update":
        return "state_update" in modes
    run_modes = modes - set(THREAD_STREAM_MODES)
    return bool(run_modes) and _keeps(event, run_modes)


async def _live_position(pool: asyncpg.Pool, thread_id: uuid.UUID) -> tuple[int, int]:
    """``(run seq, event seq)`` of "now": the active run's next event, else the next run."""
    active = await runs_db.first_active_of_thread(pool, thread_id)
    if active is None:
        return await runs_db.last_seq_of_thread(pool, thread_id) + 1, 0
    if active["status"] == "running":
        return active["seq"], await events_db.last_seq(pool, active["run_id"])
    return active["seq"], 0


async def follow_thread(
    pool: asyncpg.Pool,
    watcher: RunWatcher,
    thread_id: uuid.UUID,
    *,
    after: int | None,
    modes: set[str],
) -> AsyncIterator[list[StoredEvent] | None]:
    """Events of every run of ``thread_id``, run after run, for ``GET /threads/{id}/stream``,
    in batches.

    Each event's id is ``runs.seq << RUN_SHIFT | event seq``, so ids grow strictly along the
    thread and one id says where to resume. ``after`` is such an id (``0``: from the first run;
    ``None``: live, from the active run's next event or the next run). After a run that
    emitted events ends, an ``event: metadata`` ``{"status": "run_done", "run_id"}`` marker is
    sent with the next id of that run. ``modes`` (see :func:`thread_stream_modes`) selects
    events as :func:`_thread_keeps` says. Never returns; yields ``None`` after each
    :data:`KEEPALIVE_SECONDS` of silence.
    """
    watch = watcher.watch(thread_id)
    try:
        if after is None:
            run_seq, seq = await _live_position(pool, thread_id)
        else:
            run_seq, seq = after >> RUN_SHIFT, after & ((1 << RUN_SHIFT) - 1)
        while True:
            run = await runs_db.run_at_or_after(pool, thread_id, run_seq)
            if run is None or run["status"] == "pending":
                if run is not None and run["run_id"] not in watch.keys:
                    watch.add(run["run_id"])  # wakes when it starts; look again first
                    continue
                if not await watch.wait(KEEPALIVE_SECONDS):
                    yield None
                continue
            run_id: uuid.UUID = run["run_id"]
            watch.discard(run_id)
            if run["seq"] != run_seq:
                run_seq, seq = run["seq"], 0
            async for batch in _run_event_batches(pool, watcher, run_id, seq):
                if batch is None:
                    yield None
                    continue
                kept = [
                    StoredEvent(run_seq << RUN_SHIFT | e.seq, e.event, e.data)
                    for e in batch
                    if _thread_keeps(e, modes)
                ]
                if kept:
                    yield kept
            last = await events_db.last_seq(pool, run_id)
            done = orjson.dumps({"status": "run_done", "run_id": str(run_id)}).decode()
            marker = StoredEvent(run_seq << RUN_SHIFT | (last + 1), "metadata", done)
            if last and seq <= last and _thread_keeps(marker, modes):
                yield [marker]
            run_seq, seq = run_seq + 1, 0
    finally:
        watch.close()
