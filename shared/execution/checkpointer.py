"""The PostgreSQL checkpointer of one run attempt, fenced by the attempt's claim token.

langgraph-checkpoint-postgres's ``AsyncPostgresSaver`` with one addition: before a checkpoint or
a task's pending writes are stored, the run must still be ``running`` under this attempt's claim
token; otherwise :class:`~shared.errors.LostClaim` is raised and nothing is written. Another
executor can take a run only after its lease expires, so while ``trusted()`` says the attempt is
well inside a lease the database confirmed (at the claim or a heartbeat), the check needs no
query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from opentelemetry import trace
from psycopg_pool import AsyncConnectionPool

from shared.errors import LostClaim, StoreUnavailable
from shared.tracing import spans

_UNREACHABLE = (
    OSError,
    psycopg.OperationalError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
)
"""Errors of a database that went away (a restart, a failover): not the graph's failure."""


class FencedSaver(AsyncPostgresSaver):
    """``AsyncPostgresSaver`` whose ``aput`` is refused once ``claim_token`` is stale."""

    def __init__(
        self,
        conn: AsyncConnectionPool,
        *,
        pool: asyncpg.Pool,
        run_id: uuid.UUID,
        claim_token: uuid.UUID,
        trusted: Callable[[], bool],
    ) -> None:
        super().__init__(conn)  # type: ignore[arg-type]
        self._pool, self._run_id, self._token = pool, run_id, claim_token
        self._trusted = trusted

    async def _fence(self) -> None:
        if self._trusted():
            return  # well within a lease the database confirmed: nobody else can hold it
        held = await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = $1 AND claim_token = $2"
            " AND status = 'running')",
            self._run_id,
            self._token,
        )
        if not held:
            raise LostClaim(f"run {self._run_id}: checkpoint refused, claim lost")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Write a checkpoint if the claim still holds (raises LostClaim otherwise, and
        StoreUnavailable when PostgreSQL cannot be reached); an ``lgd.checkpoint.write``
        span."""
        try:
            await self._fence()
            stored = await super().aput(config, checkpoint, metadata, new_versions)
        except _UNREACHABLE as exc:
            raise StoreUnavailable(f"run {self._run_id}: checkpoint not stored: {exc!r}") from exc
        _written(config, {spans.CHECKPOINT_ID: checkpoint["id"]})
        return stored

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes if the claim still holds (raises LostClaim, or
        StoreUnavailable when PostgreSQL cannot be reached); an ``lgd.checkpoint.write`` span."""
        try:
            await self._fence()
            await super().aput_writes(config, writes, task_id, task_path)
        except _UNREACHABLE as exc:
            raise StoreUnavailable(f"run {self._run_id}: writes not stored: {exc!r}") from exc
        _written(config, {spans.TASK_ID: task_id})


def _written(config: RunnableConfig, attributes: dict[str, str]) -> None:
    """Record a stored write as the event ``lgd.checkpoint.write`` of the current (attempt)
    span (:mod:`shared.tracing.spans`); nothing while tracing is off."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    namespace = config["configurable"].get("checkpoint_ns")
    if namespace:
        attributes = {**attributes, spans.CHECKPOINT_NS: namespace}
    span.add_event(spans.CHECKPOINT_WRITE, attributes)


def plain_saver(conn: AsyncConnectionPool) -> AsyncPostgresSaver:
    """An unfenced saver for reads and state updates made through the API."""
    return AsyncPostgresSaver(conn)  # type: ignore[arg-type]


async def delete_run_checkpoints(conn: AsyncConnectionPool, thread_id: str, run_id: str) -> None:
    """Delete the checkpoints (and their writes) a run wrote on a thread: rollback."""
    async with conn.connection() as c:
        await c.execute(
            """DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_id IN (
                   SELECT checkpoint_id FROM checkpoints
                   WHERE thread_id = %s AND metadata->>'run_id' = %s)""",
            (thread_id, thread_id, run_id),
        )
        await c.execute(
            "DELETE FROM checkpoints WHERE thread_id = %s AND metadata->>'run_id' = %s",
            (thread_id, run_id),
        )
