"""A2A tasks over the run service: send a message (wait or stream), get and cancel a task.

Every message starts a run on the context's thread through :func:`shared.services.runs.create_run`
(a new thread when the message names no context), so runs queue, execute and cancel as any
other. Waiting and streaming read the stored events (:mod:`shared.streams.follow`).
A message naming a task continues it (terminal tasks take none): an input-required one is
resumed, its thread's interrupt answered by the message.
Source: Agent Server API, "A2A" (message/send, message/stream, tasks/get, tasks/cancel).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from a2a.compat.v0_3 import types as a2a
from pydantic import BaseModel

from shared.a2a import convert
from shared.a2a.rpc import RpcFault, invalid_params, task_not_found, unsupported
from shared.api.runs import RunCreateStateful
from shared.auth.context import RequestContext
from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.errors import Invalid, NotFound
from shared.ids import new_id, parse_uuid
from shared.runtime.context import Runtime
from shared.services.access import visible_thread
from shared.services.assistants import input_schema
from shared.services.runs import cancel_runs, create_run, resolve_assistant
from shared.streams.follow import RunWatcher, follow_events, wait_for_end

STREAM_MODES = ["messages-tuple"]
"""What A2A runs store as events: the agent's message chunks (partial text)."""
CANCEL_WAIT_SECONDS = 10.0
"""How long tasks/cancel waits for a running task to stop before answering."""


async def chat_assistant(rt: Runtime, ctx: RequestContext, assistant_id: str) -> asyncpg.Record:
    """The assistant ``assistant_id`` (UUID or graph id) names, if its graph's input has
    ``messages``. Raises NotFound / Invalid (unknown assistant, not a chat graph)."""
    row = await resolve_assistant(rt, ctx, rt.db.pool, assistant_id)
    schema = await input_schema(rt, ctx, row) or {}
    if "messages" not in (schema.get("properties") or {}):
        raise Invalid(
            f"Assistant '{assistant_id}' (graph '{row['graph_id']}') does not take 'messages'"
            " input; A2A needs a chat graph"
        )
    return row


async def _find_run(
    rt: Runtime, ctx: RequestContext, assistant: asyncpg.Record, task: str
) -> asyncpg.Record:
    """The latest run of task id ``task`` (its first run, or the last one resuming it) if it
    belongs to ``assistant``. Raises RpcFault -32001."""
    ids = convert.parse_task_id(task)
    row = None
    if ids is not None:
        try:
            await visible_thread(rt, ctx, ids[0])
        except NotFound:
            raise task_not_found(task) from None
        row = await runs_db.latest_tagged(rt.db.pool, ids[0], ids[1], convert.TASK_KEY, task)
    if row is None or row["assistant_id"] != assistant["assistant_id"]:
        raise task_not_found(task)
    if convert.task_of(row) != task:  # the id of a resuming run, not of a task
        raise task_not_found(task)
    return row


async def _load_task(
    rt: Runtime,
    ctx: RequestContext,
    run: Mapping[str, Any],
    history_length: int | None,
) -> a2a.Task:
    """The current task of ``run`` (a run with ``run_id`` and ``thread_id``)."""
    row = await runs_db.get(rt.db.pool, run["run_id"])
    if row is None:  # deleted meanwhile, with its thread
        raise task_not_found(convert.task_of(run))
    active = row["status"] in runs_db.ACTIVE
    values = None if active else await runs_db.final_values(rt.db.pool, row["run_id"])
    return convert.build_task(row, values, history_length)


def _history_length(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise invalid_params("historyLength must be 0 or more")
    return value


def _context_of(message: a2a.Message) -> uuid.UUID | None:
    """The message's ``contextId`` as a thread id. Raises RpcFault -32602 (not a UUID)."""
    if message.context_id is None:
        return None
    thread_id = parse_uuid(message.context_id)
    if thread_id is None:
        raise invalid_params(f"contextId '{message.context_id}' is not a UUID")
    return thread_id


async def _awaits_input(rt: Runtime, ctx: RequestContext, run: asyncpg.Record) -> bool:
    """Whether the task whose latest run is ``run`` is input-required (``False`` while it
    works). Raises RpcFault -32004 for a terminal task (completed, failed, canceled), which
    takes no more messages (A2A; the official server's answer)."""
    if run["status"] in runs_db.ACTIVE:
        return False
    if run["status"] == "success":
        thread = await threads_db.get(rt.db.pool, run["thread_id"], None)  # a visible run's
        if thread is not None and thread["status"] == "interrupted":
            return True
    raise unsupported("A terminal task cannot accept another message")


@dataclass(frozen=True)
class _Turn:
    """Where an incoming message goes: its thread, the task it continues (``None``: a new
    task) and the resume command it answers an interrupt with (``None``: new input)."""

    thread_id: uuid.UUID
    task: str | None
    command: dict[str, Any] | None


async def _turn(
    rt: Runtime,
    ctx: RequestContext,
    assistant: asyncpg.Record,
    message: a2a.Message,
) -> _Turn:
    """The :class:`_Turn` of ``message``, as the official server decides: without ``taskId``
    a new task on its ``contextId`` (or a new context); with one, that task continues, and if
    it is input-required the message resumes its interrupt with its data part
    ``{"resume": value}``, else with its text. Raises RpcFault (-32602 bad context id or
    resume, -32001 unknown task, -32004 terminal task)."""
    thread_id = _context_of(message)
    try:
        found, value = convert.resume_value(message)
    except ValueError as exc:
        raise invalid_params(str(exc)) from exc
    if message.task_id is None:
        if found:
            raise invalid_params("taskId is required when resuming a task")
        return _Turn(thread_id or new_id(), None, None)
    run = await _find_run(rt, ctx, assistant, message.task_id)
    if thread_id is not None and run["thread_id"] != thread_id:
        raise task_not_found(message.task_id)
    waiting = await _awaits_input(rt, ctx, run)
    if found and not waiting:
        raise invalid_params("Task is not awaiting input")
    text = convert.message_text(message)
    if not found and (not waiting or text is None):
        return _Turn(run["thread_id"], message.task_id, None)
    return _Turn(run["thread_id"], message.task_id, {"resume": value if found else text})


async def _start(
    rt: Runtime,
    ctx: RequestContext,
    assistant: asyncpg.Record,
    params: a2a.MessageSendParams,
) -> dict[str, Any]:
    """Create the run of an incoming message (see :func:`_turn`): the message as input, or the
    resume of an input-required task. Its metadata records the ``messageId``
    (``a2a_message_id``) and the task it continues (:data:`convert.TASK_KEY`). Returns the API
    Run. Raises RpcFault and DomainError."""
    try:
        graph_input = convert.graph_input(params.message)
    except ValueError as exc:
        raise invalid_params(str(exc)) from exc
    turn = await _turn(rt, ctx, assistant, params.message)
    metadata = {"a2a_message_id": params.message.message_id}
    if turn.task is not None:
        metadata[convert.TASK_KEY] = turn.task
    body = RunCreateStateful.model_validate(
        {
            "assistant_id": str(assistant["assistant_id"]),
            "input": graph_input if turn.command is None else None,
            "command": turn.command,
            "if_not_exists": "create",
            "stream_mode": STREAM_MODES,
            "metadata": metadata,
        }
    )
    return await create_run(rt, ctx, turn.thread_id, body)


async def send(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: a2a.MessageSendParams,
) -> a2a.Task:
    """``message/send``: start a task and answer with it once it ended (at once, submitted,
    with ``configuration.blocking: false``). Raises RpcFault and DomainError."""
    config = params.configuration or a2a.MessageSendConfiguration()
    history_length = _history_length(config.history_length)
    run = await _start(rt, ctx, assistant, params)
    if config.blocking is not False:
        async for _ in wait_for_end(rt.db.pool, watcher, run["run_id"]):
            pass
    return await _load_task(rt, ctx, run, history_length)


async def stream(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: a2a.MessageSendParams,
) -> AsyncIterator[BaseModel | None]:
    """``message/stream``: the task (submitted), a working ``status-update`` when the run
    starts and one per chunk of agent text (the chunk's text), then the task's artifacts
    (``artifact-update``) and its final ``status-update`` (``final: true``). ``None`` stands
    for a keep-alive. Raises RpcFault and DomainError before the first item."""
    config = params.configuration or a2a.MessageSendConfiguration()
    history_length = _history_length(config.history_length)
    run = await _start(rt, ctx, assistant, params)
    task = convert.build_task(run, None, history_length)
    yield task
    working = a2a.TaskStatus(state=a2a.TaskState.working)
    events = follow_events(
        rt.db.pool, watcher, run["run_id"], after_seq=0, modes={"messages-tuple"}
    )
    async for item in events:
        if item is None:
            yield None
        elif item.event == "metadata":
            yield convert.status_event(task.id, task.context_id, working, final=False)
        elif (chunk := convert.chunk_text(item.data)) is not None:
            message_id, text = chunk
            message = convert.agent_message(text, task.context_id, task.id, message_id)
            status = a2a.TaskStatus(state=a2a.TaskState.working, message=message)
            yield convert.status_event(task.id, task.context_id, status, final=False)
    task = await _load_task(rt, ctx, run, history_length)
    for artifact in task.artifacts or []:
        yield convert.artifact_event(task, artifact)
    yield convert.status_event(task.id, task.context_id, task.status, final=True)


async def get_task(
    rt: Runtime,
    ctx: RequestContext,
    assistant: asyncpg.Record,
    params: a2a.TaskQueryParams,
) -> a2a.Task:
    """``tasks/get``: the task ``params.id`` with its last ``historyLength`` messages.
    Raises RpcFault (-32001 unknown task, -32602 bad historyLength)."""
    history_length = _history_length(params.history_length)
    row = await _find_run(rt, ctx, assistant, params.id)
    return await _load_task(rt, ctx, row, history_length)


async def cancel_task(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: a2a.TaskIdParams,
) -> a2a.Task:
    """``tasks/cancel``: cancel a submitted or working task (its run is cancelled with
    ``interrupt``) and answer with it once stopped (after at most
    :data:`CANCEL_WAIT_SECONDS`). Raises RpcFault (-32001 unknown, -32002 already ended)."""
    row = await _find_run(rt, ctx, assistant, params.id)
    run_id = row["run_id"]
    if row["status"] not in runs_db.ACTIVE or not await cancel_runs(rt, [run_id], "interrupt"):
        raise RpcFault(a2a.TaskNotCancelableError(message=f"Task '{params.id}' already ended"))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CANCEL_WAIT_SECONDS):
            async for _ in wait_for_end(rt.db.pool, watcher, run_id):
                pass
    return await _load_task(rt, ctx, row, None)
