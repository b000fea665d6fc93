"""Create and cancel runs: the durable half of ``POST …/runs*`` and ``…/cancel``.

A run is created in one transaction that locks its thread, applies ``multitask_strategy``
against the thread's active runs, inserts the run and marks the thread busy; executors are
woken only after commit. Cancels are recorded in PostgreSQL first, then signalled.
Source: Agent Server API, "Runs on a thread", "multitask_strategy", "Cancel".
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from pydantic import ValidationError

from shared.api.runs import RUN_FIELDS, BulkCancel, RetryPolicy, RunCreateStateless
from shared.auth.access import Action
from shared.auth.context import RequestContext
from shared.bus.base import RUN_CANCEL, RUN_EVENTS, RUN_REQUESTED
from shared.db import assistants as assistants_db
from shared.db import attempts as attempts_db
from shared.db import idempotency as idempotency_db
from shared.db import limits as limits_db
from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.db.scope import Scope
from shared.errors import BadRequest, Conflict, Invalid, NotFound, RunGone, TooManyRequests
from shared.execution.events import metadata_event
from shared.ids import new_id, parse_uuid, system_assistant_id
from shared.logs import bound, log_run_status
from shared.metrics import RUNS_CREATED, RUNS_FINISHED
from shared.runtime.context import Runtime
from shared.services.access import check_may_cancel, scope_of, visible_thread
from shared.services.pages import check_select, selected
from shared.services.webhooks import check_webhook


async def resolve_assistant(
    rt: Runtime, ctx: RequestContext, conn: asyncpg.Connection | asyncpg.Pool, assistant_id: str
) -> asyncpg.Record:
    """The assistant named by a UUID or a graph id, among ``ctx``'s tenant's and the system
    assistants. Raises NotFound / Invalid."""
    as_uuid = parse_uuid(assistant_id)
    if as_uuid is None:
        if assistant_id not in rt.graphs:
            raise Invalid(f"Assistant or graph '{assistant_id}' not found")
        as_uuid = system_assistant_id(assistant_id)
    row = await assistants_db.get(conn, as_uuid, Scope(ctx.tenant_id))
    if row is None:
        raise NotFound(f"Assistant '{assistant_id}' not found")
    return row


def _own_context(body: RunCreateStateless) -> dict[str, Any]:
    """The run's own context: its ``context``, else its ``config.configurable``; the official
    server mirrors one into the other (``shared/graphs/context.py``)."""
    configurable = body.config.configurable if body.config else None
    return dict(body.context or configurable or {})


def _merge_config(assistant: asyncpg.Record, body: RunCreateStateless) -> dict[str, Any]:
    # null values stored before they were refused (``tags: null``) count as left out
    config = {k: v for k, v in (assistant["config"] or {}).items() if v is not None}
    config.pop("retry_policy", None)  # lg-deploy's, not LangGraph's: kept in kwargs
    run_config = body.config.model_dump(exclude_none=True) if body.config else {}
    run_config.pop("configurable", None)
    configurable = {**config.get("configurable", {}), **_own_context(body)}
    tags = [*config.get("tags", []), *run_config.pop("tags", [])]
    config.update(run_config)
    config["configurable"] = configurable
    if tags:
        config["tags"] = tags
    checkpoint_id = getattr(body, "checkpoint_id", None)
    checkpoint = getattr(body, "checkpoint", None)
    if checkpoint is not None:
        checkpoint_id = checkpoint.checkpoint_id or checkpoint_id
        if checkpoint.checkpoint_ns:
            configurable["checkpoint_ns"] = checkpoint.checkpoint_ns
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return config


def _thread_config(
    assistant: asyncpg.Record, thread: asyncpg.Record, body: RunCreateStateless
) -> dict[str, Any]:
    """The config a thread keeps once a run is created on it, merged as the official server
    merges it (``Runs.put``): the assistant's config, the thread's, then the run's, with
    ``configurable`` only the assistant's and the thread's (a run's own stays in the run)."""
    base: dict[str, Any] = assistant["config"] or {}
    kept: dict[str, Any] = thread["config"] or {}
    run = body.config.model_dump(exclude_none=True) if body.config else {}
    configurable = {**base.get("configurable", {}), **kept.get("configurable", {})}
    return {**base, **kept, **run, "configurable": configurable}


def _kwargs(assistant: asyncpg.Record, body: RunCreateStateless, temporary: bool) -> dict[str, Any]:
    """The run's stored arguments. ``input`` and ``command`` may come together, as chat UIs on
    ``useStream`` send them (``submit({}, {command})``, ``submit(null, {command})``): like the
    official server, a command that sets anything wins and the input is ignored; an empty
    command (``{}``) leaves the input to run (the executor's choice, see ``execution.py``)."""
    if body.config and body.config.configurable and body.context:
        raise BadRequest("Cannot specify both configurable and context. Use context instead.")
    context = {**(assistant["context"] or {}), **_own_context(body)}
    return {
        "input": body.input,
        "command": body.command.model_dump(exclude_none=True) if body.command else None,
        "config": _merge_config(assistant, body),
        "context": context,
        "context_given": bool(body.context),
        "stream_mode": body.stream_mode,
        "interrupt_before": body.interrupt_before,
        "interrupt_after": body.interrupt_after,
        "webhook": body.webhook,
        "feedback_keys": body.feedback_keys,
        "temporary": temporary,
        "subgraphs": body.stream_subgraphs,
        "resumable": body.stream_resumable,
        "checkpoint_during": body.durability != "exit",
        "durability": body.durability,
        "retry_policy": _retry_policy(assistant, body),
    }


def _retry_policy(assistant: asyncpg.Record, body: RunCreateStateless) -> dict[str, Any] | None:
    """The request's ``retry_policy``, else the assistant's (``config.retry_policy``)."""
    if body.retry_policy is not None:
        return body.retry_policy.model_dump()
    raw = (assistant["config"] or {}).get("retry_policy")
    if raw is None:
        return None
    try:
        return RetryPolicy.model_validate(raw).model_dump()
    except ValidationError as exc:
        raise Invalid(f"assistant config.retry_policy is invalid: {exc}") from exc


@dataclass(frozen=True)
class CreatedRun:
    """A run inserted by :func:`create_run_in` (its ``runs`` row) and the runs its
    ``multitask_strategy`` cancelled: what :func:`announce_run` signals after commit."""

    row: asyncpg.Record
    cancelled: list[asyncpg.Record]
    ended: list[str]
    """The graph id of each pending run among ``cancelled`` that its cancel ended."""
    ctx: RequestContext
    """Whose run it is: the wake-up message carries its tenant, request id and trace."""


async def create_run(
    rt: Runtime,
    ctx: RequestContext,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    *,
    idempotency_key: str | None = None,
    awaited: bool = False,
) -> dict[str, Any]:
    """Create a run on ``thread_id``, or on a new temporary thread when ``None`` (stateless);
    returns the API Run object. ``awaited``: the caller reads the run's end and then removes
    its temporary thread with :func:`~shared.execution.temporary.discard_temporary_thread`.

    With ``idempotency_key`` (the ``Idempotency-Key`` header) the same key on the same thread
    (or among stateless runs) returns the run it created first, even under concurrent
    duplicates; reusing a key for a different request raises Invalid.

    Raises NotFound (thread or assistant), Invalid (unknown graph, or a ``webhook`` the
    ``webhooks.url`` policy refuses), BadRequest (conflicting fields), Conflict
    (``multitask_strategy=reject`` on a busy thread) and TooManyRequests (the tenant's
    queued-runs limit); nothing is written when it raises.
    """
    run_id = new_id()
    async with rt.db.pool.acquire() as conn, conn.transaction():
        if idempotency_key is not None:
            earlier = await _earlier_run(conn, ctx, thread_id, body, idempotency_key, run_id)
            if earlier is not None:
                return earlier
        created = await create_run_in(
            rt, ctx, conn, thread_id, body, run_id=run_id, awaited=awaited
        )
    await announce_run(rt, created)
    return runs_db.run_to_api(created.row)


async def _earlier_run(
    conn: asyncpg.Connection,
    ctx: RequestContext,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    key: str,
    run_id: uuid.UUID,
) -> dict[str, Any] | None:
    """Bind ``key`` to ``run_id``; or the run an earlier request with ``key`` created (keys
    are the tenant's own: the same key in another tenant is another key)."""
    if not 0 < len(key) <= 255:
        raise Invalid("Idempotency-Key must be 1 to 255 characters")
    request_hash = hashlib.sha256(
        orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    place = str(thread_id) if thread_id is not None else "stateless"
    bound = await idempotency_db.reserve(
        conn, f"{ctx.tenant_id}/{place}", key, request_hash, run_id
    )
    if bound is None:
        return None
    if bound["request_hash"] != request_hash:
        raise Invalid("Idempotency-Key was already used for a different request")
    row = await runs_db.get(conn, bound["run_id"])
    if row is None:
        raise RunGone(
            "the run created with this Idempotency-Key no longer exists", str(bound["run_id"])
        )
    return runs_db.run_to_api(row)


async def create_run_in(
    rt: Runtime,
    ctx: RequestContext,
    conn: asyncpg.Connection,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    *,
    run_id: uuid.UUID | None = None,
    awaited: bool = False,
) -> CreatedRun:
    """:func:`create_run` inside the caller's transaction on ``conn`` (which it must commit,
    then call :func:`announce_run`); ``run_id`` defaults to a new id. Authorized as
    ``threads.create_run`` (the handler may change ``metadata``; its filter limits which
    thread may be run on). Raises as :func:`create_run` does, and Forbidden."""
    stateless = thread_id is None
    if stateless and body.command is not None and body.command.resume is not None:
        raise BadRequest("You must provide a thread_id when resuming.")
    check_webhook(rt, body.webhook)
    run_id = run_id or new_id()
    value: dict[str, Any] = {
        "thread_id": thread_id,
        "assistant_id": body.assistant_id,
        "run_id": run_id,
        "status": "pending",
        "metadata": body.metadata or {},
        "prevent_insert_if_inflight": body.multitask_strategy == "reject",
        "multitask_strategy": body.multitask_strategy,
        "if_not_exists": body.if_not_exists,
        "after_seconds": body.after_seconds,
        "kwargs": body.model_dump(exclude_unset=True),
    }
    scope = await scope_of(rt, ctx, "threads", "create_run", value)
    run_metadata = value["metadata"]
    cancelled: list[asyncpg.Record] = []
    ended: list[str] = []
    assistant = await resolve_assistant(rt, ctx, conn, body.assistant_id)
    graph_id = assistant["graph_id"]
    patch = {"graph_id": graph_id, "assistant_id": str(assistant["assistant_id"])}
    temporary = stateless and body.on_completion == "delete"
    kwargs = _kwargs(assistant, body, temporary)
    was_busy = False
    if stateless:
        thread_id = new_id()
        thread = await threads_db.insert(
            conn, thread_id, ctx.tenant_id, patch, status="busy", temporary=temporary
        )
    else:
        assert thread_id is not None
        thread = await threads_db.get(conn, thread_id, scope, for_update=True)
        if thread is None:
            if body.if_not_exists == "create":
                thread = await threads_db.insert(
                    conn, thread_id, ctx.tenant_id, patch, status="busy"
                )
            if thread is None:  # absent, or another tenant's / filtered out
                raise NotFound(f"Thread '{thread_id}' not found.")
        else:
            was_busy = thread["status"] == "busy"
            cancelled, ended = await _apply_multitask(conn, thread_id, body)
    assert thread is not None
    metadata = {**(assistant["metadata"] or {}), **(thread["metadata"] or {})}
    metadata.update(run_metadata)
    metadata.update(patch)
    row = await runs_db.insert_run(
        conn,
        run_id=run_id,
        thread_id=thread_id,
        assistant_id=assistant["assistant_id"],
        tenant_id=ctx.tenant_id,
        request_context=ctx.to_json(),
        metadata=metadata,
        kwargs=kwargs,
        multitask_strategy=body.multitask_strategy,
        after_seconds=body.after_seconds,
        awaited=temporary and awaited,
        thread_metadata=patch,
        # as the official server: a busy thread keeps the config of the run that made it busy
        thread_config=None if was_busy else _thread_config(assistant, thread, body),
        first_event=metadata_event(run_id, attempt=1),
        max_queued=rt.settings.tenant_max_queued_runs,
    )
    if row is None:  # the tenant's queue is full (nothing was written)
        limit = await limits_db.queued_limit(
            conn, ctx.tenant_id, rt.settings.tenant_max_queued_runs
        )
        raise TooManyRequests(
            f"Tenant '{ctx.tenant_id}' has {limit} queued runs, its limit; retry once some have"
            " started"
        )
    return CreatedRun(row, cancelled, ended, ctx)


async def announce_run(rt: Runtime, created: CreatedRun) -> None:
    """After the commit of a created run: signal the runs it cancelled and wake executors."""
    row = created.row
    await _signal_cancelled(rt, created.cancelled, row["multitask_strategy"], created.ended)
    wake = {"run_id": str(row["run_id"]), "thread_id": str(row["thread_id"])}
    wake |= created.ctx.carried()
    with bound(wake):
        log_run_status(row["run_id"], "pending", "created", assistant_id=row["assistant_id"])
    if row["available_at"] > row["updated_at"]:  # after_seconds: executors set a timer
        wake["delayed"] = "true"
    await rt.bus.publish(RUN_REQUESTED, wake)
    RUNS_CREATED.inc()


async def _apply_multitask(
    conn: asyncpg.Connection, thread_id: uuid.UUID, body: RunCreateStateless
) -> tuple[list[asyncpg.Record], list[str]]:
    """Apply ``multitask_strategy`` to the thread's active runs; returns those it cancelled,
    and the graph id of each pending one the cancel ended."""
    active = await runs_db.active_runs(conn, thread_id)
    if not active:
        return [], []
    strategy = body.multitask_strategy
    if strategy == "reject":
        raise Conflict(
            "Thread is already running a task. Wait for it to finish or choose a different"
            " multitask strategy."
        )
    if strategy == "enqueue":
        return [], []
    ended = await cancel_locked(conn, [r["run_id"] for r in active], strategy)
    return active, ended


async def cancel_locked(
    conn: asyncpg.Connection, run_ids: list[uuid.UUID], action: str
) -> list[str]:
    """Record a cancel of ``run_ids`` inside the caller's transaction; returns the graph id of
    each pending run it ended (counted finished by :func:`_signal_cancelled` after commit).

    Pending runs end at once (``interrupted``, with their webhooks queued, or deleted by
    ``rollback``); running ones get ``cancel_action`` set for their executor to act on.
    """
    ended = await runs_db.cancel_pending(conn, run_ids, action)
    await runs_db.flag_cancel(conn, run_ids, action)
    return ended


async def cancel_runs(rt: Runtime, run_ids: list[uuid.UUID], action: str) -> list[uuid.UUID]:
    """Cancel ``run_ids`` (those still pending or running); returns the ids affected.

    The cancel is committed before anyone is signalled; pending runs' threads are settled here,
    running ones by their executor.
    """
    async with rt.db.pool.acquire() as conn, conn.transaction():
        active = await runs_db.lock_active(conn, run_ids)
        if not active:
            return []
        ended = await cancel_locked(conn, [r["run_id"] for r in active], action)
        await threads_db.settle(conn, list({r["thread_id"] for r in active}))
    await _signal_cancelled(rt, active, action, ended)
    return [r["run_id"] for r in active]


async def _signal_cancelled(
    rt: Runtime, runs: list[asyncpg.Record], action: str, ended: list[str]
) -> None:
    """After commit: tell executors of cancelled running runs, and readers of ended ones;
    log the pending runs the cancel ``action`` ended (interrupted, or deleted by
    ``rollback``) and count those it ended (``ended``: their graph ids) in
    ``lgd_runs_finished_total`` (a running run is counted by its executor when it stops)."""
    for graph_id in ended:
        RUNS_FINISHED.labels(graph_id, "interrupted").inc()
    for r in runs:
        if r["status"] != "running":
            outcome = "deleted" if action == "rollback" else "interrupted"
            log_run_status(r["run_id"], outcome, f"cancelled: {action}", thread_id=r["thread_id"])
        if r["status"] == "running":
            await rt.bus.publish(RUN_CANCEL, {"run_id": str(r["run_id"])})
        else:
            await rt.bus.publish(RUN_EVENTS, {"run_id": str(r["run_id"]), "done": True})


async def list_runs(
    rt: Runtime,
    ctx: RequestContext,
    thread_id: uuid.UUID,
    limit: int,
    offset: int,
    status: str | None,
    select: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Runs of a thread, newest first (``GET /threads/{thread_id}/runs``); with ``select``
    (names of :data:`RUN_FIELDS`) only those fields, as the official server answers.
    Raises Invalid (an unknown ``select`` name) and NotFound."""
    check_select(select, RUN_FIELDS)
    await visible_thread(rt, ctx, thread_id)
    rows = await runs_db.list_for_thread(rt.db.pool, thread_id, limit, offset, status)
    return [selected(runs_db.run_to_api(r), select) for r in rows]


async def get_run(
    rt: Runtime,
    ctx: RequestContext,
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    action: Action = "read",
) -> asyncpg.Record:
    """A run of a thread (all columns) that ``ctx`` may ``action`` (``threads.<action>`` on
    its thread): the run and its thread's scope in one statement. Raises NotFound (no such
    run, or a thread ``ctx`` may not see) and Forbidden."""
    scope = await scope_of(rt, ctx, "threads", action, {"thread_id": thread_id})
    row = await runs_db.get_scoped(rt.db.pool, run_id, scope, thread_id)
    if row is None:
        raise NotFound(f"Run '{run_id}' not found")
    return row


async def read_run(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, run_id: uuid.UUID
) -> dict[str, Any]:
    """``GET /threads/{tid}/runs/{rid}``: the API Run. Raises NotFound."""
    return runs_db.run_to_api(await get_run(rt, ctx, thread_id, run_id))


async def read_stateless_run(rt: Runtime, ctx: RequestContext, run_id: uuid.UUID) -> dict[str, Any]:
    """The API Run ``run_id`` whatever its thread (``GET /runs/{rid}/stream``, the
    ``Location`` of a stateless stream), if ``ctx`` may read its thread. Raises NotFound."""
    scope = await scope_of(rt, ctx, "threads", "read", {"run_id": run_id})
    row = await runs_db.get_scoped(rt.db.pool, run_id, scope)
    if row is None:
        raise NotFound(f"Run '{run_id}' not found")
    return runs_db.run_to_api(row)


async def list_attempts(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, run_id: uuid.UUID
) -> list[dict[str, Any]]:
    """lg-deploy extension ``GET …/runs/{rid}/attempts``: the run's executor attempts, oldest
    first. Raises NotFound."""
    await get_run(rt, ctx, thread_id, run_id)
    return await attempts_db.list_for_run(rt.db.pool, run_id)


async def final_values(rt: Runtime, run_id: uuid.UUID) -> Any:
    """The body of a wait on an ended run (``/runs/wait``, ``/join``): its final values, or
    ``{"__error__": …}`` (:func:`shared.db.runs.final_values`)."""
    return await runs_db.final_values(rt.db.pool, run_id)


async def delete_run(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, run_id: uuid.UUID
) -> None:
    """Delete a run record (``DELETE /threads/{tid}/runs/{rid}``); an active run is cancelled
    with rollback first, which deletes it once its executor stops. Raises NotFound and
    Forbidden (someone else's active run, for a developer)."""
    row = await get_run(rt, ctx, thread_id, run_id, "delete")
    if row["status"] in runs_db.ACTIVE:
        check_may_cancel(ctx, [row])
        await cancel_runs(rt, [run_id], "rollback")
    await runs_db.delete_unless_running(rt.db.pool, run_id)


async def cancellable_run(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, run_id: uuid.UUID
) -> asyncpg.Record:
    """The run ``POST /threads/{tid}/runs/{rid}/cancel`` is about to cancel (with
    :func:`cancel_runs`), if ``ctx`` may: ``threads.update`` on its thread, and its creator or
    an operator. Raises NotFound and Forbidden."""
    row = await get_run(rt, ctx, thread_id, run_id, "update")
    check_may_cancel(ctx, [row])
    return row


async def bulk_cancel(
    rt: Runtime, ctx: RequestContext, body: BulkCancel, action: str
) -> list[uuid.UUID]:
    """``POST /runs/cancel``: cancel by ``status`` or by ``thread_id`` + ``run_ids``, among the
    runs of threads ``ctx`` may update. Raises Forbidden (a developer naming someone else's
    runs, or cancelling by status)."""
    scope = await scope_of(rt, ctx, "threads", "update", {"thread_id": body.thread_id})
    if body.status is not None:
        statuses: list[str] = list(runs_db.ACTIVE) if body.status == "all" else [body.status]
        runs = await runs_db.select_ids(rt.db.pool, scope, statuses=statuses)
    else:
        runs = await runs_db.select_ids(
            rt.db.pool, scope, run_ids=body.run_ids, thread_id=body.thread_id
        )
    check_may_cancel(ctx, runs)
    return await cancel_runs(rt, [r["run_id"] for r in runs], action)
