"""Thread endpoints: ``/threads*`` (thread streaming lives elsewhere).

Source: Agent Server API, "Threads".
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from functions.intake.deps import CtxDep, RuntimeDep, WatcherDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors, paginated
from shared.api.common import CheckpointRef, selectable
from shared.api.threads import (
    PruneResult,
    Thread,
    ThreadCount,
    ThreadCreate,
    ThreadHistory,
    ThreadPatch,
    ThreadPrune,
    ThreadSearch,
    ThreadState,
    ThreadStateCheckpoint,
    ThreadStateUpdate,
    ThreadStateUpdated,
)
from shared.services import threads as service

router = APIRouter(tags=["threads"], route_class=EdgeRoute)
THREAD_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Thread}, **errors(404)}
STATE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"model": selectable(ThreadState)},
    **errors(404),
}
HISTORY_DOC: dict[int | str, dict[str, Any]] = {
    200: {"model": selectable(ThreadState, many=True)},
    **errors(404),
}
Select = Annotated[list[str] | None, Query(description="ThreadState fields, or values.<key>")]


@router.post("/threads", responses={200: {"model": Thread}, **errors(409)})
async def create_thread(body: ThreadCreate, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create a thread (``if_exists``: ``raise`` → 409, ``do_nothing`` → the existing one)."""
    await rt.access.authorize(ctx, "threads", "create", {})  # until the service does (lead)
    return Json(await service.create_thread(rt, body))


@router.post("/threads/search", responses={200: {"model": selectable(Thread, many=True)}})
async def search_threads(body: ThreadSearch, rt: RuntimeDep) -> Response:
    """Threads matching the filters, with ``X-Pagination-Total``/``X-Pagination-Next``."""
    page = await service.search_threads(rt, body)
    return paginated(page.items, page.total, page.next_offset)


@router.post("/threads/count", responses={200: {"model": int}})
async def count_threads(body: ThreadCount, rt: RuntimeDep) -> Response:
    """How many threads match the filters."""
    return Json(await service.count_threads(rt, body))


@router.post("/threads/prune", responses={200: {"model": PruneResult}, **errors(409)})
async def prune_threads(body: ThreadPrune, rt: RuntimeDep, watcher: WatcherDep) -> Response:
    """Delete threads, or keep only their latest checkpoints (``keep_latest``)."""
    count = await service.prune_threads(rt, watcher, body.thread_ids, body.strategy)
    return Json({"pruned_count": count})


@router.get("/threads/{thread_id}", responses=THREAD_DOC)
async def get_thread(thread_id: uuid.UUID, rt: RuntimeDep, include: str | None = None) -> Response:
    """One thread (``include=ttl`` is accepted; no TTL is kept)."""
    return Json(await service.get_thread(rt, thread_id))


@router.patch(
    "/threads/{thread_id}", responses={**THREAD_DOC, 204: {"description": "Prefer: return=minimal"}}
)
async def patch_thread(
    thread_id: uuid.UUID,
    body: ThreadPatch,
    rt: RuntimeDep,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Merge metadata into a thread; ``Prefer: return=minimal`` answers 204."""
    thread = await service.update_thread(rt, thread_id, body)
    if prefer and "return=minimal" in prefer:
        return Response(status_code=204)
    return Json(thread)


@router.delete("/threads/{thread_id}", status_code=204, responses=errors(404))
async def delete_thread(thread_id: uuid.UUID, rt: RuntimeDep, watcher: WatcherDep) -> Response:
    """Delete a thread, its runs (active ones are cancelled) and its checkpoints."""
    await service.delete_thread(rt, watcher, thread_id)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy", responses=THREAD_DOC)
async def copy_thread(thread_id: uuid.UUID, rt: RuntimeDep) -> Response:
    """A new thread with the same metadata and every checkpoint."""
    return Json(await service.copy_thread(rt, thread_id))


@router.get("/threads/{thread_id}/state", responses=STATE_DOC)
async def get_state(
    thread_id: uuid.UUID, rt: RuntimeDep, subgraphs: bool = False, select: Select = None
) -> Response:
    """The latest state of a thread."""
    return Json(await service.get_state(rt, thread_id, subgraphs=subgraphs, select=select))


@router.get("/threads/{thread_id}/state/{checkpoint_id}", responses=STATE_DOC)
async def get_state_at(
    thread_id: uuid.UUID,
    checkpoint_id: uuid.UUID,
    rt: RuntimeDep,
    subgraphs: bool = False,
    select: Select = None,
) -> Response:
    """The state of a thread at one checkpoint."""
    ref = CheckpointRef(checkpoint_id=str(checkpoint_id))
    return Json(await service.get_state(rt, thread_id, ref, subgraphs=subgraphs, select=select))


@router.post("/threads/{thread_id}/state/checkpoint", responses=STATE_DOC)
async def post_state_at(
    thread_id: uuid.UUID, body: ThreadStateCheckpoint, rt: RuntimeDep
) -> Response:
    """The state of a thread at ``checkpoint`` (body form)."""
    state = await service.get_state(
        rt, thread_id, body.checkpoint, subgraphs=body.subgraphs, select=body.select
    )
    return Json(state)


@router.post(
    "/threads/{thread_id}/state",
    responses={200: {"model": ThreadStateUpdated}, **errors(400, 404, 409)},
)
async def update_state(thread_id: uuid.UUID, body: ThreadStateUpdate, rt: RuntimeDep) -> Response:
    """Write state as a node would (409 while a run is active)."""
    return Json(await service.update_state(rt, thread_id, body))


@router.get("/threads/{thread_id}/history", responses=HISTORY_DOC)
async def get_history(
    thread_id: uuid.UUID,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1,
    before: str | None = None,
) -> Response:
    """Past states of a thread, newest first."""
    body = ThreadHistory(limit=limit, before=before)
    return Json(await service.get_history(rt, thread_id, body))


@router.post("/threads/{thread_id}/history", responses=HISTORY_DOC)
async def post_history(thread_id: uuid.UUID, body: ThreadHistory, rt: RuntimeDep) -> Response:
    """Past states of a thread, newest first, filtered by checkpoint metadata."""
    return Json(await service.get_history(rt, thread_id, body))
