"""The thread service: create, search, copy, delete and prune threads; read and write state.

A thread's state lives in langgraph-checkpoint-postgres's tables and is read through the graph
named by the thread's ``metadata.graph_id``, bound to an unfenced saver. The ``threads`` row
keeps a copy of the latest values, interrupts and status for search; this module keeps it in
step after API state writes. Source: Agent Server API, "Threads" and the ThreadState shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.errors import InvalidUpdateError
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot, StateUpdate
from langgraph_sdk.runtime import AccessContext
from psycopg_pool import AsyncConnectionPool

from shared.api.common import CheckpointRef
from shared.api.threads import (
    SuperstepUpdate,
    ThreadCount,
    ThreadCreate,
    ThreadHistory,
    ThreadPatch,
    ThreadSearch,
    ThreadStateUpdate,
    parse_extract_path,
)
from shared.auth.context import RequestContext
from shared.auth.user import auth_configurable
from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.db.scope import Scope
from shared.errors import BadRequest, Conflict, Invalid, NotFound
from shared.execution.attempt import state_result
from shared.execution.checkpointer import plain_saver
from shared.execution.translate import checkpoint_to_api
from shared.ids import new_id
from shared.runtime.context import Runtime
from shared.runtime.tenant_store import tenant_store
from shared.serde import interrupts_to_api, to_jsonable
from shared.services.access import scope_of, thread_in, visible_thread
from shared.services.pages import Page, selected
from shared.services.runs import cancel_runs
from shared.streams.follow import RunWatcher, wait_for_end

# Errors LangGraph raises for updates that do not fit the graph (unknown node, values its
# reducers refuse): the client's input, so 400 with LangGraph's own words ("Node nope does not
# exist"), as the official server answers (it maps ValueError and InvalidUpdateError to 400).
UPDATE_ERRORS = (InvalidUpdateError, ValueError, TypeError)
# How long deleting a thread waits for its cancelled runs to stop.
STOP_WAIT_SECONDS = 10.0


def empty_state() -> dict[str, Any]:
    """The ThreadState of a thread without checkpoints."""
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }


def state_to_api(state: StateSnapshot) -> dict[str, Any]:
    """A LangGraph ``StateSnapshot`` as the API's ThreadState (JSON types only).

    Subgraph tasks carry their ``state`` when read with ``subgraphs``, else their ``checkpoint``
    (the ``configurable`` of the subgraph's config, as the official server lists it).
    """
    if state.metadata is None:
        return empty_state()
    checkpoint = checkpoint_to_api(state.config)
    parent = checkpoint_to_api(state.parent_config)
    tasks = [
        {
            "id": task.id,
            "name": task.name,
            "path": to_jsonable(task.path),
            "error": repr(task.error) if task.error is not None else None,
            "interrupts": interrupts_to_api(task.interrupts),
            "checkpoint": (
                to_jsonable(task.state.get("configurable"))
                if isinstance(task.state, dict)
                else None
            ),
            "state": state_to_api(task.state) if isinstance(task.state, StateSnapshot) else None,
            "result": to_jsonable(task.result),
        }
        for task in state.tasks
    ]
    return {
        "values": to_jsonable(state.values),
        "next": list(state.next),
        "tasks": tasks,
        "metadata": to_jsonable(state.metadata),
        "created_at": state.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": interrupts_to_api(state.interrupts),
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def select_state(state: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    """Only the ThreadState fields named in ``select``; ``values.<key>`` keeps one state key.

    Raises Invalid for names that are neither a field nor ``values.<key>``.
    """
    if not select:
        return state
    out: dict[str, Any] = {}
    keys: list[str] = []
    for name in select:
        if name.startswith("values.") and len(name) > len("values."):
            keys.append(name.removeprefix("values."))
        elif name in state:
            out[name] = state[name]
        else:
            raise Invalid(f"cannot select {name!r}: not a ThreadState field or values.<key>")
    if keys and "values" not in out:
        values = state["values"]
        out["values"] = (
            {k: values[k] for k in keys if k in values} if isinstance(values, dict) else values
        )
    return out


def _config(
    thread_id: uuid.UUID, checkpoint_ns: str = "", checkpoint_id: str | None = None
) -> RunnableConfig:
    configurable: dict[str, Any] = {"thread_id": str(thread_id), "checkpoint_ns": checkpoint_ns}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return RunnableConfig(configurable=configurable)


def _ref_config(thread_id: uuid.UUID, ref: CheckpointRef | None) -> RunnableConfig:
    if ref is None:
        return _config(thread_id)
    return _config(thread_id, ref.checkpoint_ns, ref.checkpoint_id)


@contextlib.asynccontextmanager
async def _graph(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, graph_id: Any, access: AccessContext
) -> AsyncIterator[Pregel | None]:
    """The thread's graph bound to the plain saver and the caller's tenant's store, for a
    state read (``threads.read``) or write (``threads.update``); ``None`` when it has no
    ``graph_id``."""
    if not graph_id:
        yield None
        return
    saver = plain_saver(rt.db.checkpoint_pool)
    store = tenant_store(rt.store, ctx.tenant_id)
    config = _config(thread_id)
    config["configurable"] |= auth_configurable(ctx.caller)  # what a graph factory sees
    async with rt.graphs.use(
        str(graph_id), access, config, store=store, checkpointer=saver
    ) as graph:
        yield graph


def _graph_of(
    rt: Runtime, ctx: RequestContext, row: asyncpg.Record, access: AccessContext
) -> contextlib.AbstractAsyncContextManager[Pregel | None]:
    return _graph(rt, ctx, row["thread_id"], (row["metadata"] or {}).get("graph_id"), access)


async def _store_state(rt: Runtime, thread_id: uuid.UUID, graph: Pregel) -> None:
    """Copy the latest state of the thread into its row (unless a run owns it: busy)."""
    _, values, interrupts, status = state_result(await graph.aget_state(_config(thread_id)))
    await threads_db.set_state(
        rt.db.pool, thread_id, values=values, interrupts=interrupts, status=status
    )


def _state_update(update: SuperstepUpdate) -> StateUpdate:
    # LangGraph's nodes also take a Command (or a list of updates) where its type says dict.
    values: Any = update.values
    if update.command is not None:
        values = Command(**update.command.model_dump(exclude_none=True))
    return StateUpdate(values, update.as_node)


# --- threads ---------------------------------------------------------------------------------


async def create_thread(rt: Runtime, ctx: RequestContext, body: ThreadCreate) -> dict[str, Any]:
    """``POST /threads``: a new thread, or with ``if_exists="do_nothing"`` the existing one.

    ``supersteps`` are applied to a new thread through the graph ``metadata.graph_id``.
    Raises Conflict (id exists, ``if_exists="raise"``), Invalid (supersteps without a known
    graph) and BadRequest (updates the graph refuses); then no thread is left behind.
    """
    thread_id = body.thread_id or new_id()
    value: dict[str, Any] = {
        "thread_id": thread_id,
        "metadata": body.metadata or {},
        "if_exists": body.if_exists,
    }
    scope = await scope_of(rt, ctx, "threads", "create", value)
    metadata = value["metadata"]
    graph_id = metadata.get("graph_id")
    if body.supersteps and graph_id not in rt.graphs:
        raise Invalid("supersteps need metadata.graph_id naming a graph of this server")
    row = await threads_db.insert(rt.db.pool, thread_id, ctx.tenant_id, metadata)
    if row is None:
        existing = await threads_db.get(rt.db.pool, thread_id, scope)
        if body.if_exists == "raise" or existing is None:
            raise Conflict(f"Thread '{thread_id}' already exists")
        return threads_db.thread_to_api(existing)
    if body.supersteps:
        supersteps = [[_state_update(u) for u in step.updates] for step in body.supersteps]
        try:
            async with _graph(rt, ctx, thread_id, graph_id, "threads.update") as graph:
                assert graph is not None
                await graph.abulk_update_state(_config(thread_id), supersteps)
                await _store_state(rt, thread_id, graph)
        except BaseException as exc:  # leave no half-made thread behind
            await _delete_rows_and_checkpoints(rt, [thread_id])
            if isinstance(exc, UPDATE_ERRORS):
                raise BadRequest(str(exc)) from exc
            raise
        row = await thread_in(rt, thread_id, None)
    return threads_db.thread_to_api(row)


async def get_thread(rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID) -> dict[str, Any]:
    """``GET /threads/{thread_id}``. Raises NotFound."""
    return threads_db.thread_to_api(await visible_thread(rt, ctx, thread_id))


async def update_thread(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, body: ThreadPatch
) -> dict[str, Any]:
    """``PATCH /threads/{thread_id}``: merge ``metadata`` (top-level keys). Raises NotFound."""
    value: dict[str, Any] = {"thread_id": thread_id, "metadata": body.metadata or {}}
    scope = await scope_of(rt, ctx, "threads", "update", value)
    row = await threads_db.merge_metadata(rt.db.pool, thread_id, scope, value["metadata"])
    if row is None:
        raise NotFound(f"Thread '{thread_id}' not found")
    return threads_db.thread_to_api(row)


async def _delete_rows_and_checkpoints(rt: Runtime, thread_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Delete threads already known to be the caller's (with runs and checkpoints)."""
    deleted = await threads_db.delete(rt.db.pool, thread_ids)
    if deleted:
        saver = plain_saver(rt.db.checkpoint_pool)
        await saver.aprune([str(t) for t in deleted], strategy="delete")
    return deleted


async def _stop_runs(rt: Runtime, watcher: RunWatcher, thread_ids: list[uuid.UUID]) -> None:
    """Cancel the threads' active runs (``interrupt``) and wait a while for them to end, so
    no executor writes a checkpoint after the thread's checkpoints are deleted."""
    active: list[uuid.UUID] = []
    for thread_id in thread_ids:
        active += [r["run_id"] for r in await runs_db.active_runs(rt.db.pool, thread_id)]
    if not active:
        return

    async def ended(run_id: uuid.UUID) -> None:
        async for _ in wait_for_end(rt.db.pool, watcher, run_id):
            pass

    cancelled = await cancel_runs(rt, active, "interrupt")
    # A run stuck in a blocking node is not waited for: once its row is gone, the fenced
    # checkpointer refuses its writes.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(STOP_WAIT_SECONDS):
            await asyncio.gather(*(ended(run_id) for run_id in cancelled))


async def delete_threads(
    rt: Runtime, watcher: RunWatcher, thread_ids: list[uuid.UUID], scope: Scope | None
) -> list[uuid.UUID]:
    """Delete the threads of ``thread_ids`` within ``scope`` (``None``: the system's own
    deletes, e.g. of an assistant's threads) with their runs and checkpoints; returns the ids
    deleted. Active runs are cancelled (``interrupt``) first and given a moment to stop."""
    if scope is not None:
        thread_ids = await threads_db.existing(rt.db.pool, thread_ids, scope)
    await _stop_runs(rt, watcher, thread_ids)
    return await _delete_rows_and_checkpoints(rt, thread_ids)


async def delete_thread(
    rt: Runtime, ctx: RequestContext, watcher: RunWatcher, thread_id: uuid.UUID
) -> None:
    """``DELETE /threads/{thread_id}``. Raises NotFound."""
    scope = await scope_of(rt, ctx, "threads", "delete", {"thread_id": thread_id})
    if not await delete_threads(rt, watcher, [thread_id], scope):
        raise NotFound(f"Thread '{thread_id}' not found")


async def prune_threads(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    thread_ids: list[uuid.UUID],
    strategy: str,
) -> int:
    """``POST /threads/prune``: ``delete`` the threads, or ``keep_latest``: drop every
    checkpoint but the latest of each namespace. Unknown ids are skipped; returns how many
    threads were pruned. Raises Invalid (a thread the library cannot prune) and Conflict
    (a thread changed while it was pruned; retrying is safe).
    """
    ids = list(dict.fromkeys(thread_ids))
    scope = await scope_of(rt, ctx, "threads", "delete", {"thread_id": None})
    if strategy == "delete":
        return len(await delete_threads(rt, watcher, ids, scope))
    found = await threads_db.existing(rt.db.pool, ids, scope)
    if not found:
        return 0
    try:
        await plain_saver(rt.db.checkpoint_pool).aprune(
            [str(t) for t in found], strategy="keep_latest"
        )
    except NotImplementedError as exc:
        raise Invalid(str(exc)) from exc
    except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as exc:
        raise Conflict(f"a thread changed while it was pruned; retry: {exc}") from exc
    return len(found)


async def _copy_checkpoints(pool: AsyncConnectionPool, source: str, target: str) -> None:
    """Copy every checkpoint, blob and write of thread ``source`` to thread ``target``."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id,
                   parent_checkpoint_id, type, checkpoint, metadata)
               SELECT %(t)s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                   CASE WHEN metadata ? 'thread_id'
                        THEN jsonb_set(metadata, '{thread_id}', to_jsonb(%(t)s::text))
                        ELSE metadata END
               FROM checkpoints WHERE thread_id = %(s)s""",
            {"s": source, "t": target},
        )
        await conn.execute(
            """INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
               SELECT %(t)s, checkpoint_ns, channel, version, type, blob
               FROM checkpoint_blobs WHERE thread_id = %(s)s""",
            {"s": source, "t": target},
        )
        await conn.execute(
            """INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id,
                   task_path, idx, channel, type, blob)
               SELECT %(t)s, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel,
                   type, blob
               FROM checkpoint_writes WHERE thread_id = %(s)s""",
            {"s": source, "t": target},
        )


async def copy_thread(rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID) -> dict[str, Any]:
    """``POST /threads/{thread_id}/copy``: a new thread with the same metadata, state and
    every checkpoint (runs are not copied), authorized as ``threads.read`` of the source and
    ``threads.create`` of the copy, as officially. Raises NotFound."""
    scope = await scope_of(rt, ctx, "threads", "read", {"thread_id": thread_id})
    source = await thread_in(rt, thread_id, scope)
    target_id = new_id()
    await scope_of(rt, ctx, "threads", "create", {"thread_id": target_id, "metadata": {}})
    row = await threads_db.copy(rt.db.pool, thread_id, scope, target_id)
    if row is None:
        raise NotFound(f"Thread '{thread_id}' not found")
    try:
        await _copy_checkpoints(rt.db.checkpoint_pool, str(thread_id), str(target_id))
        if source["status"] == "busy":  # mid-run: the copy holds the checkpoints written so far
            async with _graph_of(rt, ctx, row, "threads.read") as graph:
                if graph is not None:
                    await _store_state(rt, target_id, graph)
                    row = await thread_in(rt, target_id, None)
    except BaseException:
        await _delete_rows_and_checkpoints(rt, [target_id])
        raise
    return threads_db.thread_to_api(row)


async def _search_scope(
    rt: Runtime, ctx: RequestContext, body: ThreadCount | ThreadSearch
) -> Scope:
    value: dict[str, Any] = {
        "metadata": body.metadata or {},
        "values": body.values or {},
        "status": body.status,
    }
    if isinstance(body, ThreadSearch):
        value |= {"limit": body.limit, "offset": body.offset, "ids": body.ids}
    return await scope_of(rt, ctx, "threads", "search", value)


async def search_threads(rt: Runtime, ctx: RequestContext, body: ThreadSearch) -> Page:
    """``POST /threads/search`` (temporary threads excluded; most recently updated first
    without ``sort_by``, as the official server orders them)."""
    filters: dict[str, Any] = {
        "ids": body.ids,
        "metadata": body.metadata,
        "values": body.values,
        "status": body.status,
    }
    scope = await _search_scope(rt, ctx, body)
    extract = body.extract or {}
    sort_by, sort_order = body.order()
    rows = await threads_db.search(
        rt.db.pool,
        scope,
        **filters,
        sort_by=sort_by,
        sort_order=sort_order,
        limit=body.limit,
        offset=body.offset,
        extract=[parse_extract_path(path) for path in extract.values()],
    )
    total = await threads_db.count(rt.db.pool, scope, **filters)
    threads = []
    for row in rows:
        thread = selected(threads_db.thread_to_api(row), body.select)
        if extract:
            thread["extracted"] = {alias: row[f"x{i}"] for i, alias in enumerate(extract)}
        threads.append(thread)
    return Page.of(threads, total, body.offset, None)


async def count_threads(rt: Runtime, ctx: RequestContext, body: ThreadCount) -> int:
    """``POST /threads/count`` (temporary threads excluded)."""
    scope = await _search_scope(rt, ctx, body)
    return await threads_db.count(
        rt.db.pool, scope, metadata=body.metadata, values=body.values, status=body.status
    )


# --- state -----------------------------------------------------------------------------------


async def get_state(
    rt: Runtime,
    ctx: RequestContext,
    thread_id: uuid.UUID,
    checkpoint: CheckpointRef | None = None,
    *,
    subgraphs: bool = False,
    select: list[str] | None = None,
) -> dict[str, Any]:
    """``GET /threads/{id}/state`` (latest), ``GET …/state/{checkpoint_id}`` and
    ``POST …/state/checkpoint``: the ThreadState at ``checkpoint`` (latest when it names no
    checkpoint id). Raises NotFound (thread, or a checkpoint id it does not have)."""
    row = await visible_thread(rt, ctx, thread_id)
    checkpoint_id = checkpoint.checkpoint_id if checkpoint else None
    state = empty_state()
    async with _graph_of(rt, ctx, row, "threads.read") as graph:
        if graph is not None:
            state = state_to_api(
                await graph.aget_state(_ref_config(thread_id, checkpoint), subgraphs=subgraphs)
            )
    if checkpoint_id and state["checkpoint_id"] is None:
        raise NotFound(f"Checkpoint '{checkpoint_id}' not found in thread '{thread_id}'")
    return select_state(state, select)


async def get_history(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, body: ThreadHistory
) -> list[dict[str, Any]]:
    """``GET``/``POST /threads/{thread_id}/history``: states newest first. Raises NotFound."""
    row = await visible_thread(rt, ctx, thread_id)
    before = body.before
    before_id = before.checkpoint_id if isinstance(before, CheckpointRef) else before
    async with _graph_of(rt, ctx, row, "threads.read") as graph:
        if graph is None:
            return []
        history = graph.aget_state_history(
            _ref_config(thread_id, body.checkpoint),
            filter=body.metadata,
            before=_config(thread_id, checkpoint_id=before_id) if before_id else None,
            limit=body.limit,
        )
        return [select_state(state_to_api(s), body.select) async for s in history]


async def update_state(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, body: ThreadStateUpdate
) -> dict[str, Any]:
    """``POST /threads/{thread_id}/state``: write ``values`` as ``as_node`` in a new checkpoint,
    after the latest one or after ``checkpoint``/``checkpoint_id`` (a fork).

    Answers ``{"checkpoint", "configurable", "checkpoint_id"}`` of the new checkpoint and keeps
    the thread row in step. Raises NotFound (thread, checkpoint), Conflict (thread busy) and
    BadRequest (thread without ``metadata.graph_id``, update refused by the graph).
    """
    row = await visible_thread(rt, ctx, thread_id, "update")
    if row["status"] == "busy":
        raise Conflict(f"Thread '{thread_id}' is busy: its state changes only between runs")
    ref = body.checkpoint or CheckpointRef()
    checkpoint_id = ref.checkpoint_id or body.checkpoint_id
    config = _config(thread_id, ref.checkpoint_ns, checkpoint_id)
    async with _graph_of(rt, ctx, row, "threads.update") as graph:
        if graph is None:
            raise BadRequest(f"Thread '{thread_id}' has no metadata.graph_id: it never ran a graph")
        if checkpoint_id and (await graph.aget_state(config)).metadata is None:
            raise NotFound(f"Checkpoint '{checkpoint_id}' not found in thread '{thread_id}'")
        try:
            written = await graph.aupdate_state(config, body.values, as_node=body.as_node)
        except UPDATE_ERRORS as exc:
            raise BadRequest(str(exc)) from exc
        await _store_state(rt, thread_id, graph)
    checkpoint = checkpoint_to_api(written)
    assert checkpoint is not None
    return {
        "checkpoint": checkpoint,
        "configurable": to_jsonable(written["configurable"]),
        "checkpoint_id": checkpoint["checkpoint_id"],
    }
