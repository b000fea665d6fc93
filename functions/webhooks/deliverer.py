"""The deliverer: claim due webhook deliveries from the outbox and send them, ``concurrency``
at a time.

It wakes when a run ends (a ``run.events`` message with ``done``: the run's delivery was
committed with its end), when a delivery in flight finishes, and by one timer set to the next
due time or lease expiry read from the database (capped at :data:`MAX_IDLE_SECONDS`); nothing
polls in a busy loop. Several deliverers share the outbox: claims skip locked rows, and a dead
deliverer's deliveries come back when their lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

import asyncpg
from opentelemetry.trace import StatusCode
from prometheus_client import Counter, Histogram

from shared.auth.context import RequestContext
from shared.bus.base import RUN_EVENTS, Subscription
from shared.db import outbox
from shared.db.pool import DB_ERRORS
from shared.execution.correlation import run_log_context
from shared.execution.webhook_delivery import next_step, send
from shared.logs import run_context
from shared.runtime.context import Runtime
from shared.tracing import spans
from shared.tracing.propagation import parent_context
from shared.webhooks.transport import webhook_client

log = logging.getLogger(__name__)

MAX_IDLE_SECONDS = 60.0
"""Longest sleep without a wake: a safety net for a lost bus message."""
BUSY_RETRY_SECONDS = 0.25
"""Wait before claiming again when due rows were locked by another deliverer's claim."""
PURGE_EVERY_SECONDS = 600.0

WEBHOOK_ATTEMPTS = Counter(
    "lgd_webhook_attempts_total", "Webhook delivery attempts made here, by outcome", ["outcome"]
)
for _outcome in ("delivered", "retry", "failed"):  # every outcome has a series from the start
    WEBHOOK_ATTEMPTS.labels(_outcome)
WEBHOOK_LATENCY = Histogram(
    "lgd_webhook_attempt_latency_seconds", "Time from a webhook POST to its answer's headers"
)


class Deliverer:
    """Delivers the outbox of ``rt``'s database. ``start()``, then ``stop()`` on shutdown
    (deliveries in flight are cancelled and handed back, due at once)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.deliverer_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._options = rt.webhooks.delivery
        self._client = webhook_client(rt.webhooks.policy, self._options.timeout_seconds)
        self._wake = asyncio.Event()
        self._in_flight: dict[uuid.UUID, tuple[asyncpg.Record, asyncio.Task[None]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: Subscription | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._purged_at = float("-inf")
        self._stopping = False

    async def start(self) -> None:
        """Subscribe to run ends and start the claim loop (which claims at once)."""
        self._subscription = self.rt.bus.subscribe(RUN_EVENTS)
        self._tasks = [
            asyncio.create_task(self._wake_on(self._subscription)),
            asyncio.create_task(self._loop()),
        ]
        self._wake.set()
        if self.rt.webhooks.signing_key is None:
            log.info("webhook requests are sent unsigned (no webhooks.signing_secret)")

    async def stop(self) -> None:
        """Stop claiming; cancel deliveries in flight and hand them back; close the client."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._subscription is not None:
            self._subscription.close()
        if self._timer is not None:
            self._timer.cancel()
        in_flight = list(self._in_flight.values())
        for _, task in in_flight:
            task.cancel()
        await asyncio.gather(*(t for _, t in in_flight), *self._tasks, return_exceptions=True)
        for row, _ in in_flight:
            with contextlib.suppress(*DB_ERRORS):
                await outbox.release(self.rt.db.pool, row)
        await self._client.aclose()

    async def _wake_on(self, subscription: Subscription) -> None:
        async for message in subscription:
            if message is None or message.get("done"):
                self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._claim()
                await self._purge()
            except DB_ERRORS as exc:
                log.warning("claiming webhook deliveries failed: %s", exc)
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _claim(self) -> None:
        free = self._options.concurrency - len(self._in_flight)
        if free <= 0:
            return  # a finishing delivery wakes the loop
        if len(await self._launch_due(free)) == free:
            self._wake.set()  # more may be due
            return
        due = await outbox.seconds_until_due(self.rt.db.pool)
        delay = MAX_IDLE_SECONDS if due is None else min(due, MAX_IDLE_SECONDS)
        self._set_timer(max(delay, BUSY_RETRY_SECONDS))

    async def _launch_due(self, free: int) -> list[asyncio.Task[None]]:
        """Claim up to ``free`` due deliveries and start their attempts."""
        retry = self._options.retry
        rows = await outbox.claim(
            self.rt.db.pool, free, self._options.lease_seconds, retry.max_attempts
        )
        return [self._launch(row) for row in rows]

    def _set_timer(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _purge(self) -> None:
        if time.monotonic() - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        purged = await outbox.purge_finished(self.rt.db.pool, self._options.retention_seconds)
        if purged:
            log.info("purged %d ended webhook deliveries", purged)

    def _launch(self, row: asyncpg.Record) -> asyncio.Task[None]:
        delivery_id: uuid.UUID = row["delivery_id"]
        task = asyncio.create_task(self._deliver(row), name=f"webhook-{delivery_id}")
        self._in_flight[delivery_id] = (row, task)
        task.add_done_callback(lambda _t: self._on_done(delivery_id))
        return task

    async def deliver_due(self) -> int:
        """Claim the deliveries due now (up to the free concurrency) and wait until each
        attempt's outcome is recorded; returns how many were attempted. What a CloudEvent
        (a run ended, a tick) asks of the webhook function. Raises database errors from the
        claim (the event should then be redelivered)."""
        free = self._options.concurrency - len(self._in_flight)
        tasks = await self._launch_due(free) if free > 0 else []
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    def _on_done(self, delivery_id: uuid.UUID) -> None:
        entry = self._in_flight.pop(delivery_id, None)
        task = entry[1] if entry else None
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery %s crashed", delivery_id, exc_info=task.exception())
        if not self._stopping:
            self._wake.set()

    async def _deliver(self, row: asyncpg.Record) -> None:
        """One attempt of ``row``'s delivery, recorded with its outcome, in the name of the
        request context that created its run (its logs carry the tenant and request id) and
        in its run's trace: an ``lgd.webhook.deliver`` span (the HTTP client span beneath)."""
        ctx = RequestContext.from_json(row["request_context"])
        run_context.set(run_log_context(row))
        number: int = row["delivery_attempts"]
        attributes = {
            **spans.run_attributes(row),
            spans.DELIVERY_ID: str(row["delivery_id"]),
            spans.DELIVERY_ATTEMPT: number,
        }
        with spans.tracer().start_as_current_span(
            spans.WEBHOOK_DELIVER,
            parent_context(ctx.traceparent, ctx.tracestate),
            attributes=attributes,
        ) as span:
            result = await send(self._client, self.rt.webhooks, row)
            outcome, retry_in = next_step(self.rt.webhooks, number, result)
            span.set_attribute(spans.OUTCOME, outcome)
            if outcome != "delivered":
                span.set_status(StatusCode.ERROR, str(result.error))
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
        WEBHOOK_LATENCY.observe(result.latency_ms / 1000)
        if outcome == "delivered":
            log.info("webhook of run %s delivered (attempt %d)", row["run_id"], number)
        else:
            log.warning(
                "webhook of run %s attempt %d failed: %s; %s",
                row["run_id"],
                number,
                result.error,
                f"retry in {retry_in:.1f}s" if outcome == "retry" else "giving up",
            )
        try:
            await outbox.record_attempt(
                self.rt.db.pool,
                row,
                sent_at=result.sent_at,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                error=result.error,
                outcome=outcome,
                retry_in_seconds=retry_in,
            )
        except DB_ERRORS as exc:  # the lease brings the delivery back
            log.warning("recording webhook attempt of run %s failed: %s", row["run_id"], exc)
