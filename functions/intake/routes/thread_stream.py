"""``GET /threads/{thread_id}/stream``: join every run of a thread as one SSE stream.

Source: Agent Server API, "SSE wire format" (thread stream) and the ``join_thread_stream``
operation of its OpenAPI spec.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from functions.intake.deps import CtxDep, RuntimeDep, WatcherDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import errors, sse_response
from shared.services.access import visible_thread
from shared.streams.follow import follow_thread, thread_cursor, thread_stream_modes

router = APIRouter(tags=["threads"], route_class=EdgeRoute)

MODES_DOC = (
    "run_modes (default: every event), lifecycle, state_update, or run stream modes (only"
    " those run events); repeated or comma separated"
)


@router.get("/threads/{thread_id}/stream", response_class=Response, responses=errors(404))
async def join_thread_stream(
    thread_id: uuid.UUID,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    stream_modes: Annotated[list[str] | None, Query(description=MODES_DOC)] = None,
    stream_mode: Annotated[
        list[str] | None, Query(description="alias of stream_modes (the JS SDK's spelling)")
    ] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Stream the events of every run of the thread, with ids, until the client leaves.

    ``Last-Event-ID`` resumes after that id (``-1`` from the thread's first run); without it
    the stream starts now. 404 for an unknown thread, 422 for a bad mode or id.
    """
    modes = thread_stream_modes([*(stream_modes or ()), *(stream_mode or ())])
    after = thread_cursor(last_event_id)
    await visible_thread(rt, ctx, thread_id)  # 404 for an unknown or foreign thread
    events = follow_thread(rt.db.pool, watcher, thread_id, after=after, modes=modes)
    return sse_response(events, kind="thread")
