"""Run endpoints: ``/threads/{thread_id}/runs*`` and stateless ``/runs*``.

Source: Agent Server API, "Runs on a thread", "Stateless runs", "Cancel", "SSE wire format".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from functions.intake.deps import RuntimeDep, WatcherDep
from functions.intake.responses import Json, sse_response
from shared.api.runs import BulkCancel, Run, RunBatchItem, RunCreateStateful, RunCreateStateless
from shared.db import runs as runs_db
from shared.errors import Invalid, NotFound
from shared.runtime import runs as runs_service
from shared.runtime.context import Runtime
from shared.runtime.streams import RunWatcher, follow_events, requested_modes, wait_for_end
from shared.serde import dumps

router = APIRouter(tags=["runs"])
RUN_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Run}}


def _location(thread_id: Any, run_id: Any, stateless: bool) -> str:
    return f"/runs/{run_id}" if stateless else f"/threads/{thread_id}/runs/{run_id}"


def _parse_last_event_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if value == "-1":
        return 0
    try:
        return int(value.split("-", 1)[0]) if value.count("-") == 1 else int(value)
    except ValueError as exc:
        raise Invalid(f"Last-Event-ID {value!r} is not an event id") from exc


async def _result(rt: Runtime, run_id: uuid.UUID) -> Any:
    row = await rt.db.pool.fetchrow(
        """SELECT r.status, r.result, t."values" FROM runs r JOIN threads t USING (thread_id)
           WHERE r.run_id = $1""",
        run_id,
    )
    if row is None:
        return {}
    if row["result"] is not None:
        return row["result"]
    return row["values"] or {}


def _cancel_on_close(rt: Runtime, run_id: uuid.UUID, enabled: bool) -> Any:
    async def close() -> None:
        if enabled:
            await runs_service.cancel_runs(rt, [run_id], "interrupt")

    return close


def _wait_body(
    rt: Runtime, watcher: RunWatcher, run_id: uuid.UUID, cancel_on_disconnect: bool
) -> AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        finished = False
        try:
            async for _ in wait_for_end(rt.db.pool, watcher, run_id):
                yield b"\n"
            finished = True
            yield dumps(await _result(rt, run_id))
        finally:
            if not finished and cancel_on_disconnect:
                with anyio.CancelScope(shield=True):  # the client is gone; finish the cancel
                    await runs_service.cancel_runs(rt, [run_id], "interrupt")

    return body()


def _run_headers(run: dict[str, Any], stateless: bool, suffix: str) -> dict[str, str]:
    loc = _location(run["thread_id"], run["run_id"], stateless)
    headers = {"Content-Location": loc}
    if suffix:
        headers["Location"] = loc + suffix
    return headers


async def _create(
    rt: Runtime, thread_id: uuid.UUID | None, body: RunCreateStateless
) -> dict[str, Any]:
    return await runs_service.create_run(rt, thread_id, body)


async def _create_stream(
    rt: Runtime, watcher: RunWatcher, thread_id: uuid.UUID | None, body: RunCreateStateless
) -> Response:
    run = await _create(rt, thread_id, body)
    events = follow_events(rt.db.pool, watcher, run["run_id"], after_seq=0)
    return sse_response(
        events,
        headers=_run_headers(run, thread_id is None, "/stream"),
        with_ids=body.stream_resumable,
        on_close=_cancel_on_close(rt, run["run_id"], body.on_disconnect == "cancel"),
    )


async def _create_wait(
    rt: Runtime, watcher: RunWatcher, thread_id: uuid.UUID | None, body: RunCreateStateless
) -> Response:
    run = await _create(rt, thread_id, body)
    # a stateless wait names its temporary thread, so clients learn the thread id
    headers = _run_headers(run, False, "/join" if thread_id is not None else "")
    return StreamingResponse(
        _wait_body(rt, watcher, run["run_id"], body.on_disconnect == "cancel"),
        media_type="application/json",
        headers=headers,
    )


@router.post("/threads/{thread_id}/runs", responses=RUN_DOC)
async def create_run(thread_id: uuid.UUID, body: RunCreateStateful, rt: RuntimeDep) -> Response:
    """Create a background run on a thread; answers at once with the pending run."""
    run = await _create(rt, thread_id, body)
    return Json(run, headers=_run_headers(run, False, ""))


@router.post("/threads/{thread_id}/runs/stream", response_class=Response)
async def stream_run(
    thread_id: uuid.UUID, body: RunCreateStateful, rt: RuntimeDep, watcher: WatcherDep
) -> Response:
    """Create a run and stream its events as SSE until it ends."""
    return await _create_stream(rt, watcher, thread_id, body)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_run(
    thread_id: uuid.UUID, body: RunCreateStateful, rt: RuntimeDep, watcher: WatcherDep
) -> Response:
    """Create a run and answer with its final values once it ends."""
    return await _create_wait(rt, watcher, thread_id, body)


@router.get("/threads/{thread_id}/runs", responses={200: {"model": list[Run]}})
async def list_runs(
    thread_id: uuid.UUID,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: str | None = None,
) -> Response:
    """Runs of a thread, newest first."""
    if await rt.db.pool.fetchval("SELECT 1 FROM threads WHERE thread_id = $1", thread_id) is None:
        raise NotFound(f"Thread '{thread_id}' not found")
    rows = await runs_db.list_for_thread(rt.db.pool, thread_id, limit, offset, status)
    return Json([runs_db.run_to_api(r) for r in rows])


async def _get_run(rt: Runtime, thread_id: uuid.UUID, run_id: uuid.UUID) -> Any:
    row = await runs_db.get(rt.db.pool, run_id, thread_id)
    if row is None:
        raise NotFound(f"Run '{run_id}' not found")
    return row


@router.get("/threads/{thread_id}/runs/{run_id}", responses=RUN_DOC)
async def get_run(thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep) -> Response:
    """One run."""
    return Json(runs_db.run_to_api(await _get_run(rt, thread_id, run_id)))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
async def delete_run(thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep) -> Response:
    """Delete a run record (a running one is cancelled with rollback first)."""
    row = await _get_run(rt, thread_id, run_id)
    if row["status"] in ("pending", "running"):
        await runs_service.cancel_runs(rt, [run_id], "rollback")
    await rt.db.pool.execute("DELETE FROM runs WHERE run_id = $1 AND status <> 'running'", run_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    watcher: WatcherDep,
    cancel_on_disconnect: bool = False,
) -> Response:
    """Wait for a run to end; answers with its final values."""
    await _get_run(rt, thread_id, run_id)
    return StreamingResponse(
        _wait_body(rt, watcher, run_id, cancel_on_disconnect), media_type="application/json"
    )


async def _join_stream(
    rt: Runtime,
    watcher: RunWatcher,
    run_id: uuid.UUID,
    last_event_id: str | None,
    stream_mode: list[str] | None,
    cancel_on_disconnect: bool,
) -> Response:
    events = follow_events(
        rt.db.pool,
        watcher,
        run_id,
        after_seq=_parse_last_event_id(last_event_id),
        modes=requested_modes(stream_mode),
    )
    return sse_response(events, on_close=_cancel_on_close(rt, run_id, cancel_on_disconnect))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=Response)
async def join_run_stream(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    watcher: WatcherDep,
    stream_mode: Annotated[list[str] | None, Query()] = None,
    cancel_on_disconnect: bool = False,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Stream a run's events: with ``Last-Event-ID`` replay those after it (``-1``: all)."""
    await _get_run(rt, thread_id, run_id)
    return await _join_stream(rt, watcher, run_id, last_event_id, stream_mode, cancel_on_disconnect)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def cancel_run(
    thread_id: uuid.UUID,
    run_id: uuid.UUID,
    rt: RuntimeDep,
    watcher: WatcherDep,
    request: Request,
    wait: bool = False,
    action: str = "interrupt",
) -> Response:
    """Cancel a pending or running run (``interrupt`` keeps checkpoints, ``rollback`` deletes
    the run and them). 202 at once, or 200 with the final values when ``wait``."""
    await _get_run(rt, thread_id, run_id)
    action = action if action in ("interrupt", "rollback") else "interrupt"
    if not await runs_service.cancel_runs(rt, [run_id], action):
        raise NotFound("No matching runs to cancel. The run may have already finished.")
    if not wait:
        return Response(status_code=202)
    return StreamingResponse(_wait_body(rt, watcher, run_id, False), media_type="application/json")


@router.post("/runs/cancel", status_code=204)
async def cancel_runs(body: BulkCancel, rt: RuntimeDep, action: str = "interrupt") -> Response:
    """Cancel many runs: ``{thread_id, run_ids}`` or ``{status: pending|running|all}``."""
    action = action if action in ("interrupt", "rollback") else "interrupt"
    if body.status is not None:
        statuses = ["pending", "running"] if body.status == "all" else [body.status]
        ids = [
            r["run_id"]
            for r in await rt.db.pool.fetch(
                "SELECT run_id FROM runs WHERE status = ANY($1)", statuses
            )
        ]
    else:
        ids = [
            r["run_id"]
            for r in await rt.db.pool.fetch(
                "SELECT run_id FROM runs WHERE run_id = ANY($1)"
                " AND ($2::uuid IS NULL OR thread_id = $2)",
                body.run_ids,
                body.thread_id,
            )
        ]
    await runs_service.cancel_runs(rt, ids, action)
    return Response(status_code=204)


@router.post("/runs", responses=RUN_DOC)
async def create_stateless_run(body: RunCreateStateless, rt: RuntimeDep) -> Response:
    """Create a background run on a new temporary thread."""
    run = await _create(rt, None, body)
    return Json(run, headers=_run_headers(run, True, ""))


@router.post("/runs/stream", response_class=Response)
async def stream_stateless_run(
    body: RunCreateStateless, rt: RuntimeDep, watcher: WatcherDep
) -> Response:
    """Create a stateless run and stream it."""
    return await _create_stream(rt, watcher, None, body)


@router.post("/runs/wait")
async def wait_stateless_run(
    body: RunCreateStateless, rt: RuntimeDep, watcher: WatcherDep
) -> Response:
    """Create a stateless run and answer with its final values."""
    return await _create_wait(rt, watcher, None, body)


@router.post("/runs/batch", responses={200: {"model": list[Run]}})
async def create_run_batch(body: list[RunBatchItem], rt: RuntimeDep) -> Response:
    """Create several stateless background runs; all are validated before any is created."""
    for item in body:
        await runs_service.resolve_assistant(rt, rt.db.pool, item.assistant_id)
    return Json([await _create(rt, None, item) for item in body])


@router.get("/runs/{run_id}/stream", response_class=Response)
async def join_stateless_stream(
    run_id: uuid.UUID,
    rt: RuntimeDep,
    watcher: WatcherDep,
    stream_mode: Annotated[list[str] | None, Query()] = None,
    cancel_on_disconnect: bool = False,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Join the stream of a stateless run (the ``Location`` of ``/runs/stream``)."""
    if await runs_db.get(rt.db.pool, run_id) is None:
        raise NotFound(f"Run '{run_id}' not found")
    return await _join_stream(rt, watcher, run_id, last_event_id, stream_mode, cancel_on_disconnect)
