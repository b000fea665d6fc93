"""MCP endpoint: Streamable HTTP without sessions at ``/mcp``.

Source: Agent Server API, "MCP" (``/mcp/`` redirects to ``/mcp``; GET is 405).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from functions.intake.deps import CtxDep, RuntimeDep, WatcherDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, accepts
from shared.mcp_server.endpoint import handle

router = APIRouter(tags=["mcp"], route_class=EdgeRoute)
MCP_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "The JSON-RPC 2.0 response (method errors too)"},
    202: {"description": "A notification or a client response was received"},
    400: {"description": "Not one JSON-RPC 2.0 message, or an unacceptable Accept header"},
}


JSON_RPC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "One JSON-RPC 2.0 message (request, notification or response)",
    }
}


@router.post("/mcp", response_class=Response, responses=MCP_DOC, openapi_extra=JSON_RPC_BODY)
async def mcp_post(
    request: Request,
    rt: RuntimeDep,
    ctx: CtxDep,
    watcher: WatcherDep,
    accept: Annotated[str | None, Header()] = None,
    mcp_protocol_version: Annotated[str | None, Header()] = None,
) -> Response:
    """One MCP JSON-RPC message: ``initialize``, ``ping``, ``tools/list``, ``tools/call``
    (each assistant is a tool; a call is a stateless run), or a notification."""
    reply = await handle(
        rt,
        ctx,
        watcher,
        await request.body(),
        acceptable=accept is not None
        and (accepts(accept, "application/json") or accepts(accept, "text/event-stream")),
        protocol_version=mcp_protocol_version,
    )
    if reply.body is None:
        return Response(status_code=reply.status)
    return Json(reply.body, status_code=reply.status)


@router.delete("/mcp", status_code=204)
async def mcp_delete() -> Response:
    """Session termination: a no-op, as this server keeps no sessions."""
    return Response(status_code=204)
