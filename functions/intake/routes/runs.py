"""Run endpoints: ``/threads/{thread_id}/runs*`` and stateless ``/runs*``.

Source: Agent Server API, "Runs on a thread", "Stateless runs", "Cancel", "SSE wire format".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated, Any, cast

import anyio
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse

from functions.intake.deps import CtxDep, RuntimeDep, WatcherDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors, sse_response
from functions.intake.waits import Deadline
from shared.api.payload import INT64_MAX
from shared.api.runs import (
    RUN_FIELDS,
    BulkCancel,
    Run,
    RunBatchItem,
    RunCreateStateful,
    RunCreateStateless,
)
from shared.auth.context import RequestContext
from shared.errors import NotFound
from shared.execution.temporary import discard_temporary_thread, read_to_end
from shared.runtime.context import Runtime
from shared.serde import dumps
from shared.services import runs as runs_service
from shared.services.access import visible_thread
from shared.streams.follow import (
    RUN_NOT_FOUND,
    RunWatcher,
    follow_event_batches,
    requested_modes,
    run_cursor,
    run_not_found_stream,
    wait_for_end,
)

router = APIRouter(tags=["runs"], route_class=EdgeRoute)
RUN_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Run}, **errors(404)}
CREATE_DOC: dict[int | str, dict[str, Any]] = {**RUN_DOC, **errors(400, 409)}
"""Run creation: 400 (input with command, configurable with context), 404 (thread,
assistant), 409 (busy thread with ``reject``, Idempotency-Key of a deleted run)."""
WAIT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "The run's final values (or its `__error__`), after newline keepalives"},
    **errors(400, 404, 409),
}
STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "SSE of the run's events", "content": {"text/event-stream": {}}},
    **errors(400, 404, 409),
}
CANCEL_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "with wait: the run's final values, after newline keepalives"},
    202: {"description": "the cancel was requested"},
    **errors(404),
}
SELECT_DOC = f"Run fields to keep, repeated: {', '.join(RUN_FIELDS)}"


def _location(thread_id: Any, run_id: Any, stateless: bool) -> str:
    return f"/runs/{run_id}" if stateless else f"/threads/{thread_id}/runs/{run_id}"


def _action(value: str) -> str:
    """Cancel action; unknown values fall back to ``interrupt`` as the official server does."""
    return value if value in ("interrupt", "rollback") else "interrupt"


async def _after_read(
    rt: Runtime, run_id: uuid.UUID, cancel: bool, temporary_thread: uuid.UUID | None
) -> None:
    """What ends a request that read a run: cancel the run (``interrupt``) when ``cancel`` (a
    client that left early with ``on_disconnect``/``cancel_on_disconnect``), then remove the
    run's ``temporary_thread`` (a stateless run's) if any."""
    if cancel:
        await runs_service.cancel_runs(rt, [run_id], "interrupt")
    if temporary_thread is not None:
        discard_temporary_thread(rt, temporary_thread, read=True)


def _cancel_on_close(
    rt: Runtime,
    run_id: uuid.UUID,
    enabled: bool,
    deadline: Deadline,
    temporary_thread: uuid.UUID | None = None,
) -> Any:
    async def close() -> None:
        # a stream ended by its deadline leaves the run going
        await _after_read(rt, run_id, enabled and not deadline.reached, temporary_thread)

    return close


def _wait_body(
    rt: Runtime,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    cancel_on_disconnect: bool,
    temporary_thread: uuid.UUID | None = None,
) -> AsyncIterator[bytes]:
    """The body of the waiting endpoints (``/runs/wait``, ``/join``, ``cancel?wait=true``): a
    newline every keep-alive period, then the run's final values; after ``max_wait_seconds``
    the ``__error__`` ``TimeoutError`` object instead (the run goes on). A client leaving early
    cancels the run when ``cancel_on_disconnect``. Afterwards ``temporary_thread`` (a stateless
    run's) is removed."""

    async def body() -> AsyncIterator[bytes]:
        deadline = Deadline(run_id, rt.settings.max_wait_seconds)
        answered = False
        try:
            ends = cast(AsyncGenerator[None, None], wait_for_end(rt.db.pool, watcher, run_id))
            async with aclosing(ends) as waiting:  # closed at once when the wait gives up
                async for _ in waiting:
                    if deadline.passed():
                        break
                    yield b"\n"
                else:
                    answered = True
                    yield dumps(await runs_service.final_values(rt, run_id))
                    return
            answered = True
            yield dumps({"__error__": deadline.error()})
        finally:
            with anyio.CancelScope(shield=True):  # the client may be gone; finish the cancel
                cancel = cancel_on_disconnect and not answered
                await _after_read(rt, run_id, cancel, temporary_thread)

    return body()


def _run_headers(run: dict[str, Any], stateless: bool, suffix: str) -> dict[str, str]:
    loc = _location(run["thread_id"], run["run_id"], stateless)
    headers = {"Content-Location": loc}
    if suffix:
        headers["Location"] = loc + suffix
    return headers


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="the same key returns the run it created first (per thread)",
    ),
]


async def _create(
    rt: Runtime,
    ctx: RequestContext,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    key: str | None = None,
    *,
    awaited: bool = False,
) -> dict[str, Any]:
    return await runs_service.create_run(
        rt, ctx, thread_id, body, idempotency_key=key, awaited=awaited
    )


async def _create_stream(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    key: str | None,
) -> Response:
    run = await _create(rt, ctx, thread_id, body, key, awaited=True)
    deadline = Deadline(run["run_id"], rt.settings.max_wait_seconds)
    events = follow_event_batches(rt.db.pool, watcher, run["run_id"], after_seq=0)
    return sse_response(
        deadline.bound(events),
        kind="run",
        headers=_run_headers(run, thread_id is None, "/stream"),
        with_ids=body.stream_resumable,
        on_close=_cancel_on_close(
            rt,
            run["run_id"],
            body.on_disconnect == "cancel",
            deadline,
            await read_to_end(rt, run, created_awaited=True),
        ),
    )


async def _create_wait(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    thread_id: uuid.UUID | None,
    body: RunCreateStateless,
    key: str | None,
) -> Response:
    run = await _create(rt, ctx, thread_id, body, key, awaited=True)
    # a stateless wait names its temporary thread, so clients learn the thread id
    headers = _run_headers(run, False, "/join" if thread_id is not None else "")
    return StreamingResponse(
        _wait_body(
            rt,
            watcher,
            run["run_id"],
            body.on_disconnect == "cancel",
            await read_to_end(rt, run, created_awaited=True),
        ),
        media_type="application/json",
        headers=headers,
    )


@router.post("/threads/{thread_id}/runs", responses=CREATE_DOC)
async def create_run(
    thread_id: uuid.UUID,
    body: RunCreateStateful,
    rt: RuntimeDep,
    ctx: CtxDep,
    key: IdempotencyKey = None,
) -> Response:
    """Create a background run on a thread; answers at once with the pending run."""
    run = await _create(rt, ctx, thread_id, body, key)
    return Json(run, headers=_run_headers(run, False, ""))


@router.post("/threads/{thread_id}/runs/stream", response_class=Response, responses=STREAM_DOC)
async def stream_run(
    thread_id: uuid.UUID,
    body: RunCreateStateful,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    key: IdempotencyKey = None,
) -> Response:
    """Create a run and stream its events as SSE until it ends."""
    return await _create_stream(rt, ctx, watcher, thread_id, body, key)


@router.post("/threads/{thread_id}/runs/wait", responses=WAIT_DOC)
async def wait_run(
    thread_id: uuid.UUID,
    body: RunCreateStateful,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    key: IdempotencyKey = None,
) -> Response:
    """Create a run and answer with its final values once it ends."""
    return await _create_wait(rt, ctx, watcher, thread_id, body, key)


@router.get("/threads/{thread_id}/runs", responses={200: {"model": list[Run]}, **errors(404)})
async def list_runs(
    thread_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    status: str | None = None,
    select: Annotated[list[str] | None, Query(description=SELECT_DOC)] = None,
) -> Response:
    """Runs of a thread, newest first; ``select`` (repeated) keeps only those fields (422 for
    an unknown one, with the official server's detail)."""
    return Json(await runs_service.list_runs(rt, ctx, thread_id, limit, offset, status, select))


@router.get("/threads/{thread_id}/runs/{run_id}", responses=RUN_DOC)
async def get_run(thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """One run."""
    return Json(await runs_service.read_run(rt, ctx, thread_id, run_id))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, responses=errors(404))
async def delete_run(
    thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Delete a run record (a running one is cancelled with rollback first)."""
    await runs_service.delete_run(rt, ctx, thread_id, run_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/attempts", responses=errors(404))
async def list_run_attempts(
    thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """lg-deploy extension: every executor attempt of a run (``attempt``, ``executor_id``,
    ``started_at``, ``ended_at``, ``outcome``, ``error``), oldest first."""
    return Json(await runs_service.list_attempts(rt, ctx, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/join", responses=WAIT_DOC)
async def join_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    cancel_on_disconnect: bool = False,
) -> Response:
    """Wait for a run to end; answers with its final values (``{"__error__"}`` for a run that
    does not exist, as the official server answers). An authenticated caller's thread is
    checked first, as the official server checks auth before it joins: a thread it may not
    read (or that does not exist) is 404."""
    if ctx.caller.is_authenticated:
        await visible_thread(rt, ctx, thread_id)
    try:
        run = await runs_service.get_run(rt, ctx, thread_id, run_id)
    except NotFound:
        return Json({"__error__": RUN_NOT_FOUND})
    return StreamingResponse(
        _wait_body(rt, watcher, run_id, cancel_on_disconnect, await read_to_end(rt, run)),
        media_type="application/json",
    )


@dataclass
class JoinQuery:
    """Query and headers of the join-stream endpoints: ``stream_mode`` filter (repeated, comma
    list or JSON array), ``cancel_on_disconnect``, and the ``Last-Event-ID`` to resume after."""

    stream_mode: Annotated[list[str] | None, Query()] = None
    cancel_on_disconnect: bool = False
    last_event_id: Annotated[str | None, Header()] = None


def _join_stream(
    rt: Runtime,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    join: JoinQuery,
    temporary_thread: uuid.UUID | None = None,
) -> Response:
    deadline = Deadline(run_id, rt.settings.max_wait_seconds)
    events = follow_event_batches(
        rt.db.pool,
        watcher,
        run_id,
        after_seq=run_cursor(join.last_event_id),
        modes=requested_modes(join.stream_mode),
    )
    return sse_response(
        deadline.bound(events),
        kind="join",
        on_close=_cancel_on_close(
            rt, run_id, join.cancel_on_disconnect, deadline, temporary_thread
        ),
    )


@router.get(
    "/threads/{thread_id}/runs/{run_id}/stream", response_class=Response, responses=STREAM_DOC
)
async def join_run_stream(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    join: Annotated[JoinQuery, Depends()],
) -> Response:
    """Stream a run's events: with ``Last-Event-ID`` replay those after it (``-1``: all); for a
    run that does not exist one ``error`` event, as the official server answers."""
    try:
        run = await runs_service.get_run(rt, ctx, thread_id, run_id)
    except NotFound:
        return sse_response(run_not_found_stream(), kind="join", with_ids=False)
    return _join_stream(rt, watcher, run_id, join, await read_to_end(rt, run))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", responses=CANCEL_DOC)
async def cancel_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    wait: bool = False,
    action: str = "interrupt",
) -> Response:
    """Cancel a pending or running run (``interrupt`` keeps checkpoints, ``rollback`` deletes
    the run and them). 202 at once, or 200 with the final values when ``wait``."""
    run = await runs_service.cancellable_run(rt, ctx, thread_id, run_id)
    reader = await read_to_end(rt, run) if wait else None
    if not await runs_service.cancel_runs(rt, [run_id], _action(action)):
        raise NotFound("No matching runs to cancel. The run may have already finished.")
    if not wait:
        return Response(status_code=202)
    return StreamingResponse(
        _wait_body(rt, watcher, run_id, False, reader), media_type="application/json"
    )


@router.post("/runs/cancel", status_code=204)
async def cancel_runs(
    body: BulkCancel, rt: RuntimeDep, ctx: CtxDep, action: str = "interrupt"
) -> Response:
    """Cancel many runs: ``{thread_id, run_ids}`` or ``{status: pending|running|all}``."""
    await runs_service.bulk_cancel(rt, ctx, body, _action(action))
    return Response(status_code=204)


@router.post("/runs", responses=CREATE_DOC)
async def create_stateless_run(
    body: RunCreateStateless, rt: RuntimeDep, ctx: CtxDep, key: IdempotencyKey = None
) -> Response:
    """Create a background run on a new temporary thread."""
    run = await _create(rt, ctx, None, body, key)
    return Json(run, headers=_run_headers(run, True, ""))


@router.post("/runs/stream", response_class=Response, responses=STREAM_DOC)
async def stream_stateless_run(
    body: RunCreateStateless,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    key: IdempotencyKey = None,
) -> Response:
    """Create a stateless run and stream it."""
    return await _create_stream(rt, ctx, watcher, None, body, key)


@router.post("/runs/wait", responses=WAIT_DOC)
async def wait_stateless_run(
    body: RunCreateStateless,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    key: IdempotencyKey = None,
) -> Response:
    """Create a stateless run and answer with its final values."""
    return await _create_wait(rt, ctx, watcher, None, body, key)


@router.post("/runs/batch", responses={200: {"model": list[Run]}, **errors(400, 404, 409)})
async def create_run_batch(body: list[RunBatchItem], rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create several stateless background runs; all are validated before any is created."""
    for item in body:
        await runs_service.resolve_assistant(rt, ctx, rt.db.pool, item.assistant_id)
    return Json([await _create(rt, ctx, None, item) for item in body])


@router.get("/runs/{run_id}/stream", response_class=Response, responses=STREAM_DOC)
async def join_stateless_stream(
    run_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    join: Annotated[JoinQuery, Depends()],
) -> Response:
    """Join the stream of a stateless run (the ``Location`` of ``/runs/stream``)."""
    run = await runs_service.read_stateless_run(rt, ctx, run_id)
    return _join_stream(rt, watcher, run_id, join, await read_to_end(rt, run))
