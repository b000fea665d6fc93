"""Thread endpoints: ``/threads*``. Source: Agent Server API, "Threads"."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from functions.intake.deps import RuntimeDep
from functions.intake.responses import Json
from shared.api.threads import Thread, ThreadCreate
from shared.db import threads as threads_db
from shared.errors import Conflict, NotFound
from shared.ids import new_id

router = APIRouter(tags=["threads"])


@router.post("/threads", responses={200: {"model": Thread}})
async def create_thread(body: ThreadCreate, rt: RuntimeDep) -> Response:
    """Create a thread (``if_exists``: ``raise`` → 409, ``do_nothing`` → the existing one)."""
    thread_id = body.thread_id or new_id()
    row = await threads_db.insert(rt.db.pool, thread_id, body.metadata or {})
    if row is None:
        if body.if_exists == "do_nothing":
            row = await threads_db.get(rt.db.pool, thread_id)
        else:
            raise Conflict(f"Thread '{thread_id}' already exists")
    return Json(threads_db.thread_to_api(row))


@router.get("/threads/{thread_id}", responses={200: {"model": Thread}})
async def get_thread(thread_id: uuid.UUID, rt: RuntimeDep) -> Response:
    """One thread."""
    row = await threads_db.get(rt.db.pool, thread_id)
    if row is None:
        raise NotFound(f"Thread '{thread_id}' not found")
    return Json(threads_db.thread_to_api(row))
