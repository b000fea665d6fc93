"""Run one attempt of a claimed run: stream the graph, store its events, end the run.

Source: Agent Server API run semantics — statuses, the wait/join result shape, thread status
after a run, stream event names per ``stream_mode``, cancel with ``interrupt``/``rollback``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from shared.auth.context import RequestContext
from shared.bus.base import RUN_EVENTS, RUN_REQUESTED
from shared.cloud_events.types import RUN_LIFECYCLE_TOPIC, run_ended
from shared.db import attempts as attempts_db
from shared.db import events as events_db
from shared.db import runs as runs_db
from shared.errors import LostClaim, StoreUnavailable
from shared.execution.checkpointer import FencedSaver, delete_run_checkpoints
from shared.execution.correlation import run_log_context
from shared.execution.events import EventSink, metadata_event
from shared.execution.retry import policy_of, retry_delay, should_retry
from shared.execution.run_config import run_config
from shared.execution.temporary import discard_temporary_thread
from shared.execution.translate import StreamTranslator, output_of, stream_events
from shared.graphs.context import graph_context
from shared.logs import log_run_status, run_context
from shared.metrics import RUN_ATTEMPTS, RUN_DURATION, RUNS_FINISHED
from shared.runtime.context import Runtime
from shared.runtime.tenant_store import tenant_store
from shared.serde import interrupts_to_api, serialize_error, to_jsonable
from shared.tracing import spans
from shared.tracing.graph import GraphSpans
from shared.tracing.propagation import parent_context

log = logging.getLogger(__name__)


def build_config(row: asyncpg.Record, *, trace_content: bool = False) -> RunnableConfig:
    """The LangGraph ``config`` of a run attempt: :func:`run_config`, with the ``run_id``
    (LangGraph's run id, and in ``metadata`` what tells it a re-entry of the same run) and,
    when the current (attempt) span records (tracing on, this trace sampled), the callback
    making node, tool and model spans under it (:class:`~shared.tracing.graph.GraphSpans`;
    ``trace_content`` adds their inputs and outputs). An unsampled run gets no callback: its
    spans would be dropped anyway, and LangChain's callback dispatch costs on every node."""
    config = run_config(row)
    config["metadata"]["run_id"] = str(row["run_id"])
    config["run_id"] = row["run_id"]
    if trace.get_current_span().is_recording():
        config["callbacks"] = [GraphSpans(otel_context.get_current(), content=trace_content)]
    return cast(RunnableConfig, config)


def reclaimed_span(row: asyncpg.Record) -> None:
    """An ``lgd.run.reclaim`` span in the trace of the run in ``row`` (a row of
    :func:`shared.db.runs.reclaim_expired`): its lease expired; ``lgd.attempt`` is the lost
    attempt, ``lgd.outcome`` the status the run got (``pending`` for another attempt)."""
    ctx = RequestContext.from_json(row["request_context"])
    spans.tracer().start_span(
        spans.RUN_RECLAIM,
        parent_context(ctx.traceparent, ctx.tracestate),
        attributes={**spans.run_attributes(row), spans.OUTCOME: row["status"]},
    ).end()


def state_result(
    state: StateSnapshot, graph: Pregel | None = None
) -> tuple[Any, Any, dict[str, Any], str]:
    """``(result, values, interrupts by task id, thread status)`` of a thread's latest state.

    ``result`` is what wait/join answer, as the official server does: the output channels of
    ``graph`` (all values without it) plus ``__interrupt__`` (the interrupts as streamed) when
    paused. ``values`` are the whole state, ``interrupts`` in the shape of a thread's.
    """
    values = to_jsonable(state.values) if state.values is not None else {}
    interrupts: dict[str, Any] = {}
    flat: list[Any] = []
    for task in state.tasks:
        if task.interrupts:
            interrupts[task.id] = interrupts_to_api(task.interrupts)
            flat.extend(task.interrupts)
    result = output_of(graph, values) if graph is not None else values
    if flat and isinstance(result, dict):
        result = {**result, "__interrupt__": to_jsonable(flat)}
    status = "interrupted" if (state.next or flat) else "idle"
    return result, values, interrupts, status


class RunAttempt:
    """One attempt at running a claimed ``runs`` row on this executor.

    ``cancel_reason`` is set by the executor before it cancels the task: ``interrupt`` or
    ``rollback`` (a user cancel), ``lost`` (claim taken over) or ``shutdown`` (hand back).
    ``ending`` turns true once the graph has stopped and the attempt writes its outcome; the
    executor cancels it no more then (a cancel then would interrupt the final write itself).
    ``cancel_taken`` turns true once the attempt handles a cancel; until then the executor
    sends it again, as a library in the graph may swallow one (see
    :data:`functions.executor.worker.RECANCEL_SECONDS`), and a graph that ran to its end past
    a cancel still ends the run as cancelled.
    A run claimed with a ``cancel_action`` (cancelled while its last executor was lost) is
    cancelled at once, as that executor would have done.
    """

    def __init__(self, rt: Runtime, row: asyncpg.Record, asked_ns: int | None = None) -> None:
        self.rt = rt
        self.asked_ns = asked_ns
        """When the claim that took the run was asked (ns since the epoch; the attempt span's
        start)."""
        self.row = row
        self.run_id: uuid.UUID = row["run_id"]
        self.thread_id: uuid.UUID = row["thread_id"]
        self.token: uuid.UUID = row["claim_token"]
        self.kwargs: dict[str, Any] = row["kwargs"]
        self.ctx = RequestContext.from_json(row["request_context"])
        """The request context that created the run: the attempt acts in its name."""
        self.cancel_reason: str | None = None
        self.cancel_taken = False
        self.ending = False
        self.trusted_until = 0.0
        """Monotonic time until which the claim is certainly held (set by the executor from
        the claim and each heartbeat: half a lease after the database confirmed it)."""

    def claim_trusted(self) -> bool:
        """Whether the claim is certainly still held now, without asking the database."""
        return time.monotonic() < self.trusted_until

    async def run(self) -> None:
        """Execute to a terminal state (or hand back / give up on a lost claim), in the run's
        trace (the stored request context's ``traceparent``): this attempt's
        ``lgd.run.attempt`` span around everything it does, from the moment its claim was asked
        (``asked_ns``; the gap before it is the run's wait in the queue), linked to the previous
        attempt's span (:mod:`shared.tracing.spans`)."""
        parent = parent_context(self.ctx.traceparent, self.ctx.tracestate)
        attributes = {**spans.run_attributes(self.row), spans.EXECUTOR_ID: self.row["executor_id"]}
        attempt = self.row["attempt"]
        links = spans.previous_attempt_links(parent, self.run_id, attempt)
        with spans.preset_span_id(spans.attempt_span_id(self.run_id, attempt)):
            span = spans.tracer().start_span(
                spans.RUN_ATTEMPT,
                parent,
                attributes=attributes,
                links=links,
                start_time=self.asked_ns,
            )
        with trace.use_span(span, end_on_exit=True):
            await self._run()

    async def _run(self) -> None:
        rt = self.rt
        attempt = self.row["attempt"]
        # create_run stored attempt 1's metadata event (seq 1); later attempts open their own
        start_seq = 1 if attempt == 1 else await events_db.last_seq(rt.db.pool, self.run_id)
        sink = EventSink(rt.db.pool, rt.bus, self.run_id, self.token, start_seq)
        graph: Pregel | None = None
        graph_use = AsyncExitStack()  # a factory's context manager is exited with it
        config = RunnableConfig()
        deadline: asyncio.Timeout | None = None
        graph_id = self.row["metadata"].get("graph_id")
        run_context.set(run_log_context(self.row))
        log_run_status(self.run_id, "running", "claimed")
        try:
            if attempt > 1:
                sink.emit_json("metadata", metadata_event(self.run_id, attempt))
            config = build_config(self.row, trace_content=rt.settings.trace_content)
            saver = FencedSaver(
                rt.db.checkpoint_pool,
                pool=rt.db.pool,
                run_id=self.run_id,
                claim_token=self.token,
                trusted=self.claim_trusted,
            )
            graph = await graph_use.enter_async_context(
                rt.graphs.use(
                    graph_id,
                    "threads.create_run",
                    config,
                    store=tenant_store(rt.store, self.row["tenant_id"]),
                    checkpointer=saver,
                    context=self.kwargs.get("context"),
                )
            )
            if self.row["cancel_action"]:
                self.cancel_reason = self.row["cancel_action"]
                await self._on_cancel(sink, graph, config)
                return
            graph_input = await self._input(graph, config)
            mirror = config["configurable"] if self.kwargs.get("context_given") else None
            context = graph_context(graph, self.kwargs.get("context"), mirror)
            translator = StreamTranslator(self.kwargs["stream_mode"], self.kwargs["subgraphs"])
            async with asyncio.timeout(self._seconds_left()) as deadline:
                async for name, data in stream_events(
                    graph, graph_input, config, self.kwargs, translator, context=context
                ):
                    sink.emit(name, data)
            if self.cancel_reason is not None:  # the graph swallowed every cancel sent
                raise asyncio.CancelledError
            self.ending = True
            if translator.final_state_known(self.kwargs, graph):
                values = to_jsonable(translator.final_values)
                interrupts: dict[str, Any] = {}
                result, thread_status = values, "idle"
            else:
                state = await graph.aget_state(self._latest(config))
                result, values, interrupts, thread_status = state_result(state, graph)
            await self._release_graph(graph_use)  # before the end is announced, as officially
            await sink.close()
            await self._finish("success", result, None, thread_status, values, interrupts)
        except asyncio.CancelledError:
            await self._on_cancel(sink, graph, config)
        except (LostClaim, StoreUnavailable) as exc:
            log.warning("%s", exc)
            sink.abort()
        except Exception as exc:  # the graph's own failure ends the run as error
            timed_out = (
                isinstance(exc, TimeoutError) and deadline is not None and deadline.expired()
            )
            await self._fail(sink, graph, config, exc, "timeout" if timed_out else "error")
        finally:
            await self._release_graph(graph_use)

    async def _release_graph(self, graph_use: AsyncExitStack) -> None:
        """End the run's use of its graph (exit a factory's context manager; again is a
        no-op). A failure there is logged: it does not change the run's outcome."""
        try:
            await graph_use.aclose()
        except Exception:  # user code of a factory's context manager
            log.exception("run %s: leaving the graph factory's context failed", self.run_id)

    async def _retry(self, sink: EventSink, delay: float, error: dict[str, Any]) -> None:
        """Hand the run back as ``pending`` for another attempt in ``delay`` seconds; the
        next attempt resumes from the last checkpoint."""
        try:
            await sink.close()
        except LostClaim:
            return
        rt = self.rt
        if await runs_db.retry_later(rt.db.pool, self.run_id, self.token, delay, error):
            await self._end_attempt("retry", error)
            log_run_status(self.run_id, "pending", f"retry in {delay:.1f}s")
            await rt.bus.publish(RUN_REQUESTED, {"run_id": str(self.run_id), "delayed": "true"})

    def _seconds_left(self) -> float:
        """What remains of ``run_timeout_seconds`` since the run first started (any attempt)."""
        started: datetime = self.row["started_at"]
        elapsed = (datetime.now(UTC) - started).total_seconds()
        return max(0.0, self.rt.settings.run_timeout_seconds - elapsed)

    async def _fail(
        self,
        sink: EventSink,
        graph: Pregel | None,
        config: RunnableConfig,
        exc: Exception,
        status: str,
    ) -> None:
        """End the run ``error`` (the graph raised) or ``timeout`` (it ran out of time)."""
        self.ending = True
        if status == "timeout":
            limit = self.rt.settings.run_timeout_seconds
            exc = TimeoutError(f"run exceeded LG_DEPLOY_RUN_TIMEOUT_SECONDS={limit:g}")
        log.info("run %s failed: %s: %s", self.run_id, type(exc).__name__, exc)
        error = serialize_error(exc)
        policy = policy_of(self.kwargs)
        attempt = self.row["attempt"]
        if status == "error" and policy is not None and should_retry(policy, attempt, exc):
            await self._retry(sink, retry_delay(policy, attempt), error)
            return
        sink.emit("error", error)
        values, interrupts = await self._values_after_error(graph, config)
        try:
            await sink.close()
        except LostClaim:
            return
        thread_status = "error" if status == "error" else "interrupted"
        await self._finish(status, {"__error__": error}, error, thread_status, values, interrupts)

    async def _input(self, graph: Pregel, config: RunnableConfig) -> Any:
        if self.row["attempt"] > 1:
            state = await graph.aget_state(self._latest(config))
            if state.metadata and state.metadata.get("run_id") == str(self.run_id):
                config["configurable"].pop("checkpoint_id", None)
                return None  # resume from this run's last checkpoint
        command = self.kwargs.get("command")
        if command:
            return Command(**command)
        return self.kwargs.get("input")

    @staticmethod
    def _latest(config: RunnableConfig) -> RunnableConfig:
        configurable = {
            k: v for k, v in config["configurable"].items() if k not in ("checkpoint_id",)
        }
        return RunnableConfig(**{**config, "configurable": configurable})

    async def _values_after_error(
        self, graph: Pregel | None, config: RunnableConfig
    ) -> tuple[Any, dict[str, Any]]:
        if graph is None:
            return None, {}
        try:
            state = await graph.aget_state(self._latest(config))
        except Exception:  # the state read is best effort after a failure
            return None, {}
        _, values, interrupts, _ = state_result(state)
        return values, interrupts

    async def _on_cancel(
        self, sink: EventSink, graph: Pregel | None, config: RunnableConfig
    ) -> None:
        self.cancel_taken = True
        reason = self.cancel_reason
        rt = self.rt
        if reason in ("lost", None):
            sink.abort()
            return
        if reason == "shutdown":
            sink.abort()
            if await runs_db.release(rt.db.pool, self.run_id, self.token):
                await self._end_attempt("released")
                log_run_status(self.run_id, "pending", "released at shutdown")
            await rt.bus.publish(RUN_REQUESTED, {"run_id": str(self.run_id)})
            return
        try:
            await sink.close()
        except LostClaim:
            return
        if reason == "rollback":
            await delete_run_checkpoints(
                rt.db.checkpoint_pool, str(self.thread_id), str(self.run_id)
            )
            _, values, interrupts, status = await self._state_or_empty(graph, config)
            done = await runs_db.delete_claimed(
                rt.db.pool, self.run_id, self.token, status, values, interrupts
            )
            if done is not None:
                log_run_status(self.run_id, "deleted", "cancelled: rollback")
            await self._announce_end(done)
            return
        result, values, interrupts, status = await self._state_or_empty(graph, config)
        await self._finish("interrupted", result, None, status, values, interrupts)

    async def _state_or_empty(
        self, graph: Pregel | None, config: RunnableConfig
    ) -> tuple[Any, Any, dict[str, Any], str]:
        """:func:`state_result` of the thread's latest state (empty without a graph)."""
        if graph is None:
            return {}, {}, {}, "idle"
        return state_result(await graph.aget_state(self._latest(config)), graph)

    async def _finish(
        self,
        status: str,
        result: Any,
        error: Any,
        thread_status: str,
        thread_values: Any,
        interrupts: dict[str, Any],
    ) -> None:
        done = await runs_db.finish(
            self.rt.db.pool,
            run_id=self.run_id,
            claim_token=self.token,
            status=status,
            result=result,
            error=error,
            thread_status=thread_status,
            thread_values=thread_values,
            thread_interrupts=interrupts,
        )
        if done is not None:  # this attempt ended the run: counted once, here
            RUNS_FINISHED.labels(self.row["metadata"].get("graph_id"), status).inc()
            await self._end_attempt(status, error)
            reason = f"cancelled: {self.cancel_reason}" if self.cancel_reason else "ended"
            log_run_status(self.run_id, status, reason)
            self._hint_run_ended(status)
        await self._announce_end(done)

    def _hint_run_ended(self, status: str) -> None:
        """Tell the ``run-lifecycle`` topic (webhooks) that the run ended, when on Kafka."""
        producer = self.rt.producer
        if producer is not None:
            event = run_ended(
                producer.source,
                str(self.run_id),
                str(self.thread_id),
                str(self.row["assistant_id"]),
                status,
                self.ctx.carried(),
            )
            producer.hint(RUN_LIFECYCLE_TOPIC, event)

    async def _end_attempt(self, outcome: str, error: Any = None) -> None:
        """Record this attempt's outcome (``run_attempts``, the attempt metrics and the
        ``lgd.outcome`` attribute of the attempt's span, ERROR status for error/timeout)."""
        span = trace.get_current_span()
        span.set_attribute(spans.OUTCOME, outcome)
        if outcome in ("error", "timeout"):
            span.set_status(StatusCode.ERROR, outcome)
        seconds = await attempts_db.end(
            self.rt.db.pool, self.run_id, self.row["attempt"], outcome, error
        )
        if seconds is not None:
            RUN_ATTEMPTS.labels(outcome).inc()
            RUN_DURATION.labels(outcome).observe(seconds)

    async def _announce_end(self, done: asyncpg.Record | None) -> None:
        if done is None:
            log.warning("run %s: claim lost before it ended; result discarded", self.run_id)
            return
        await self.rt.bus.publish(RUN_EVENTS, {"run_id": str(self.run_id), "done": True})
        if done["has_pending"] or self.row["tenant_capped"]:  # a waiting run may start now
            await self.rt.bus.publish(RUN_REQUESTED, {"thread_id": str(done["thread_id"])})
        # a temporary thread goes now, unless a request reads the run to its end: then that
        # reader removes it (known at the claim, or marked since: the delete then skips it)
        if self.kwargs.get("temporary") and not self.row["awaited"]:
            discard_temporary_thread(self.rt, self.thread_id, read=False)
