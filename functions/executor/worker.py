"""The executor function: claim runs from PostgreSQL and run up to ``n_jobs`` at once.

Wake-ups come by push (``run.requested`` on the bus, and a local wake when a slot frees or a
delayed run comes due); a slow sweep reclaims expired leases of dead executors. Cancels come by
the bus and, durably, through the heartbeat's view of the ``cancel_action`` column.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from cloudevents.core.base import BaseCloudEvent

from functions.executor.heartbeat import Heartbeat
from shared.bus.base import RUN_CANCEL, RUN_EVENTS, RUN_REQUESTED
from shared.cloud_events.types import RUN_REQUESTS_TOPIC
from shared.db import events as events_db
from shared.db import idempotency as idempotency_db
from shared.db import limits as limits_db
from shared.db import runs as runs_db
from shared.db.pool import DB_ERRORS
from shared.execution.attempt import RunAttempt, reclaimed_span
from shared.execution.correlation import run_log_context
from shared.execution.temporary import sweep_temporary_threads
from shared.kafka.bus import names_a_run
from shared.kafka.consumer import EventConsumer
from shared.logs import bound, log_run_status
from shared.metrics import EXECUTOR_SLOTS, LEASE_RECLAIMS, RUNS_FINISHED
from shared.runtime.context import Runtime

log = logging.getLogger(__name__)


FINAL_STATUSES = ("success", "error", "timeout", "interrupted")
"""The statuses a run ends in (``lgd_runs_finished_total{status}``)."""

CAPS_CHECK_SECONDS = 1.0
"""How often an executor reads whether any tenant has a running-runs limit."""

RECANCEL_SECONDS = 1.0
"""How long after cancelling an attempt's task the executor cancels it again if the attempt
has not taken the cancel: code in the graph may swallow one. CPython 3.11's
``asyncio.wait_for`` returns its future's result when the cancel comes as that future
completes (gh-86296, fixed in 3.12), and ``langchain_openai`` awaits every streamed chunk
through it; the task running the node then goes on, and the run's task, which was waiting
on it, never sees the cancel."""


class Executor:
    """Claims and runs runs. ``start()`` then, on shutdown, ``stop()`` (hands runs back)."""

    def __init__(self, rt: Runtime, *, n_jobs: int, executor_id: str | None = None) -> None:
        self.rt = rt
        self.n_jobs = n_jobs
        self.executor_id = (
            executor_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self._running: dict[uuid.UUID, tuple[RunAttempt, asyncio.Task[None], float]] = {}
        self._held: tuple[uuid.UUID, ...] = ()  # snapshot of _running's keys for the heartbeat
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._timer: asyncio.TimerHandle | None = None
        self._check_delayed = True
        """Whether a delayed run may have been announced since the timer was last set."""
        self._heartbeat: Heartbeat | None = None
        self._claiming = asyncio.Lock()
        self._caps_checked = -math.inf
        self._caps = False
        """Whether some tenant has a running-runs override (then claims take turns); read at
        most every :data:`CAPS_CHECK_SECONDS`."""
        self._consumer: EventConsumer | None = None
        if rt.producer is not None:
            self._consumer = EventConsumer(
                rt.settings,
                RUN_REQUESTS_TOPIC,
                "executors",
                self._on_run_requests,
                rt.producer,
                capacity=self._free_slots,
            )

    async def start(self) -> None:
        """Subscribe to the bus (and join the ``run-requests`` consumer group when on Kafka),
        start the heartbeat and the claim and sweep loops."""
        req = self.rt.bus.subscribe(RUN_REQUESTED)
        cancel = self.rt.bus.subscribe(RUN_CANCEL)
        self._tasks = [
            asyncio.create_task(self._wake_on(req)),
            asyncio.create_task(self._cancel_on(cancel)),
            asyncio.create_task(self._claim_loop()),
            asyncio.create_task(self._sweep_loop()),
        ]
        self._heartbeat = Heartbeat(
            self.rt.db.dsn,
            self.executor_id,
            self.rt.settings.lease_seconds,
            asyncio.get_running_loop(),
            lambda: self._held,
            self._on_heartbeat,
        )
        self._heartbeat.start()
        EXECUTOR_SLOTS.labels("used").set_function(lambda: len(self._running))
        EXECUTOR_SLOTS.labels("free").set_function(self._free_slots)
        for graph_id in self.rt.graphs.graph_ids:  # every outcome has a series from the start
            for status in FINAL_STATUSES:
                RUNS_FINISHED.labels(graph_id, status)
        if self._consumer is not None:
            await self._consumer.start()
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; hand every running run back to ``pending`` at its last checkpoint
        (runs already ending or being cancelled are let finish)."""
        self._stopping = True
        if self._consumer is not None:
            await self._consumer.stop()
        for task in self._tasks:
            task.cancel()
        attempts = list(self._running.items())
        for run_id, _ in attempts:
            self._cancel(run_id, "shutdown")
        await asyncio.gather(*(t for _, (_, t, _) in attempts), return_exceptions=True)
        if self._heartbeat:
            self._heartbeat.stop()

    @property
    def running(self) -> int:
        """Runs executing now."""
        return len(self._running)

    def _free_slots(self) -> int:
        return 0 if self._stopping else self.n_jobs - len(self._running)

    async def _on_run_requests(self, _events: list[BaseCloudEvent]) -> None:
        """Handle fetched ``run-requests`` records: claim what the free slots can take. The
        consumer commits the records once this returns (the claims are committed)."""
        await self._claim_available()

    async def _wake_on(self, sub: object) -> None:
        async for payload in sub:  # type: ignore[attr-defined]
            if payload is None or payload.get("delayed"):
                self._check_delayed = True
            elif self._consumer is not None and names_a_run(payload):
                continue  # the same request comes through the run-requests topic
            self._wake.set()

    async def _cancel_on(self, sub: object) -> None:
        async for payload in sub:  # type: ignore[attr-defined]
            ids = list(self._running) if payload is None else [uuid.UUID(payload["run_id"])]
            if self._claiming.locked() and not all(i in self._running for i in ids):
                # a claim of it may be committed and not launched yet (the cancel waited on
                # the claim's row lock): once the claim is through, the run is held here
                async with self._claiming:
                    pass
            held = [i for i in ids if i in self._running]
            if not held:
                continue
            rows = await self.rt.db.pool.fetch(
                "SELECT run_id, cancel_action FROM runs WHERE run_id = ANY($1)", held
            )
            for row in rows:
                if row["cancel_action"]:
                    self._cancel(row["run_id"], row["cancel_action"])

    def _cancel(self, run_id: uuid.UUID, reason: str) -> None:
        entry = self._running.get(run_id)
        if entry is None or entry[0].cancel_reason is not None or entry[0].ending:
            return  # gone, already being cancelled, or past its last step: too late
        entry[0].cancel_reason = reason
        self._send_cancel(run_id, entry[1])

    def _send_cancel(self, run_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        """Cancel ``task`` (the attempt at ``run_id``), and again every
        :data:`RECANCEL_SECONDS` until the attempt takes the cancel or ends."""
        entry = self._running.get(run_id)
        if entry is None or entry[1] is not task or entry[0].cancel_taken or entry[0].ending:
            return
        if task.cancelling():  # sent before, and swallowed
            log.warning("run %s: its cancel was not taken (swallowed?); cancelling again", run_id)
        task.cancel()
        asyncio.get_running_loop().call_later(RECANCEL_SECONDS, self._send_cancel, run_id, task)

    def _on_heartbeat(self, started: float, rows: list[tuple[object, object, object]]) -> None:
        held = {run_id: (token, action) for run_id, token, action in rows}
        for run_id, (attempt, _, claimed_at) in list(self._running.items()):
            if claimed_at > started:
                continue  # claimed after this beat read the table
            token_action = held.get(run_id)
            if token_action is None or token_action[0] != attempt.token:
                if attempt.ending or attempt.cancel_reason is not None:
                    continue  # stopping already: its outcome or hand-back was written, not held
                log.warning("run %s: lease lost, stopping this attempt", run_id)
                self._cancel(run_id, "lost")
            elif token_action[1]:
                self._cancel(run_id, str(token_action[1]))
            else:
                trusted = started + self.rt.settings.lease_seconds / 2
                attempt.trusted_until = max(attempt.trusted_until, trusted)

    async def _claim_loop(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._claim_available()
            except DB_ERRORS as exc:
                log.warning("claiming runs failed: %s", exc)
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _claim_available(self) -> None:
        async with self._claiming:  # the claim loop and the Kafka consumer share the slots
            await self._claim_free_slots()

    async def _running_caps(self, now: float) -> bool:
        """Whether claims must take turns: a running-runs limit is set, by default or for
        some tenant (the overrides are read again after :data:`CAPS_CHECK_SECONDS`, so a new
        one is exact across executors within that time)."""
        if self.rt.settings.tenant_max_running_runs is not None:
            return True
        if now - self._caps_checked > CAPS_CHECK_SECONDS:
            self._caps = await limits_db.running_caps_exist(self.rt.db.pool)
            self._caps_checked = now
        return self._caps

    async def _claim_free_slots(self) -> None:
        while True:
            free = self._free_slots()
            if free <= 0:
                return
            asked, asked_ns = time.monotonic(), time.time_ns()
            try:
                rows = await runs_db.claim(
                    self.rt.db.pool,
                    self.executor_id,
                    free,
                    self.rt.settings.lease_seconds,
                    max_running=self.rt.settings.tenant_max_running_runs,
                    fair=self.rt.settings.fair_claims,
                    exact=await self._running_caps(asked),
                )
            except asyncpg.UniqueViolationError:
                await asyncio.sleep(0.01)  # lost a per-thread race; claim again
                continue
            for row in rows:
                self._launch(row, asked, asked_ns)
            if len(rows) < free:
                if self._check_delayed:
                    self._check_delayed = False
                    await self._schedule_delayed()
                return

    def _launch(self, row: asyncpg.Record, asked: float, asked_ns: int) -> None:
        run_id: uuid.UUID = row["run_id"]
        if run_id in self._running:  # an older attempt of this run is still winding down here:
            self._cancel(run_id, "lost")  # its claim is stale, this one supersedes it
        attempt = RunAttempt(self.rt, row, asked_ns)
        attempt.trusted_until = asked + self.rt.settings.lease_seconds / 2
        task = asyncio.create_task(attempt.run(), name=f"run-{run_id}")
        self._running[run_id] = (attempt, task, time.monotonic())
        self._held = tuple(self._running)
        task.add_done_callback(lambda done: self._on_done(run_id, done))

    def _on_done(self, run_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception():
            log.error("run %s crashed in the executor", run_id, exc_info=task.exception())
        entry = self._running.get(run_id)
        if entry is None or entry[1] is not task:
            return  # a superseded attempt: the entry belongs to the newer one
        del self._running[run_id]
        self._held = tuple(self._running)
        if not self._stopping and len(self._running) + 1 >= self.n_jobs:
            self._wake.set()  # a slot opened on a full executor: runs may be waiting for it

    async def _schedule_delayed(self) -> None:
        due = await runs_db.next_available_at(self.rt.db.pool)
        if self._timer:
            self._timer.cancel()
            self._timer = None
        if due is not None:
            delay = max(0.0, (due - datetime.now(UTC)).total_seconds())
            self._timer = asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _sweep_loop(self) -> None:
        settings = self.rt.settings
        while not self._stopping:
            await asyncio.sleep(settings.sweep_seconds)
            try:
                await self.sweep()
            except DB_ERRORS as exc:
                log.warning("sweep failed: %s", exc)

    async def sweep(self, *, every_running: bool = False) -> None:
        """Reclaim expired leases (an ``lgd.run.reclaim`` span in each run's trace), expire old
        events and idempotency keys, and delete ended stateless threads."""
        rt = self.rt
        touched = await runs_db.reclaim_expired(
            rt.db.pool, rt.settings.max_attempts, every_running=every_running
        )
        for row in touched:
            with bound(run_log_context(row)):
                log_run_status(row["run_id"], row["status"], "lease expired", logging.WARNING)
            reclaimed_span(row)
            if row["status"] != "pending":  # its attempts are used up: the run ends here
                RUNS_FINISHED.labels(row["metadata"].get("graph_id"), row["status"]).inc()
                await rt.bus.publish(RUN_EVENTS, {"run_id": str(row["run_id"]), "done": True})
        if touched:
            LEASE_RECLAIMS.inc(len(touched))
            self._wake.set()
            await rt.bus.publish(RUN_REQUESTED, {})
        await events_db.delete_expired(rt.db.pool, rt.settings.event_retention_seconds)
        await idempotency_db.delete_older_than(
            rt.db.pool, rt.settings.idempotency_retention_seconds
        )
        await sweep_temporary_threads(rt)
        self._check_delayed = True
        self._wake.set()
