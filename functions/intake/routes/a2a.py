"""A2A endpoints: JSON-RPC at ``POST /a2a/{assistant_id}`` and the agent cards.

Source: Agent Server API, "A2A".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from functions.intake.deps import CtxDep, RuntimeDep, WatcherDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, accepts, errors, sse_response
from shared.a2a.card import agent_card
from shared.a2a.endpoint import handle
from shared.a2a.rpc import dump
from shared.auth.context import RequestContext
from shared.runtime.context import Runtime
from shared.serde import dumps_str
from shared.streams.follow import StoredEvent

router = APIRouter(tags=["a2a"], route_class=EdgeRoute)
RPC_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A JSON-RPC 2.0 response (errors too), or for message/stream an SSE"
        " stream of `event: message` frames each holding one",
        "content": {"application/json": {}, "text/event-stream": {}},
    },
    **errors(400),
}
CARD_DOC = errors(404)


JSON_RPC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "One JSON-RPC 2.0 request",
    }
}


@router.post(
    "/a2a/{assistant_id}", response_class=Response, responses=RPC_DOC, openapi_extra=JSON_RPC_BODY
)
@router.post("/a2a/{assistant_id}/", response_class=Response, include_in_schema=False)
async def a2a_rpc(
    assistant_id: str,
    request: Request,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """A2A JSON-RPC: ``message/send``, ``message/stream`` (SSE), ``tasks/get``,
    ``tasks/cancel`` on a chat assistant (UUID or graph id)."""
    reply = await handle(
        rt,
        ctx,
        watcher,
        assistant_id,
        await request.body(),
        accepts_json=accepts(accept, "application/json"),
        accepts_sse=accepts(accept, "text/event-stream"),
    )
    if isinstance(reply, dict):
        return Json(reply)
    frames = (
        None if frame is None else StoredEvent(0, "message", dumps_str(frame))
        async for frame in reply
    )
    return sse_response(frames, kind="a2a", with_ids=False)


async def _card(rt: Runtime, ctx: RequestContext, assistant_id: str, request: Request) -> Response:
    return Json(dump(await agent_card(rt, ctx, assistant_id, str(request.base_url))))


@router.get("/a2a/{assistant_id}/.well-known/agent-card.json", responses=CARD_DOC)
@router.get("/a2a/{assistant_id}/.well-known/agent.json", include_in_schema=False)
async def assistant_agent_card(
    assistant_id: str, request: Request, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """The A2A agent card of a chat assistant (UUID or graph id)."""
    return await _card(rt, ctx, assistant_id, request)


@router.get("/.well-known/agent-card.json", responses=CARD_DOC)
async def root_agent_card(
    assistant_id: Annotated[str, Query(min_length=1)], request: Request, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """The A2A agent card of the chat assistant named by ``assistant_id``."""
    return await _card(rt, ctx, assistant_id, request)
