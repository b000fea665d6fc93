"""One MCP message in, one answer out: the stateless Streamable HTTP server of ``POST /mcp``.

Requests get a JSON response; notifications and client responses get 202 without a body; no
session is kept (no ``Mcp-Session-Id``). Methods: ``initialize`` (echoes a supported
``protocolVersion``, else the latest), ``ping``, ``tools/list``, ``tools/call``.
Source: MCP Streamable HTTP transport, Agent Server API "MCP".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    UNSUPPORTED_PROTOCOL_VERSION,
    CallToolRequestParams,
    EmptyResult,
    ErrorData,
    Implementation,
    InitializeRequestParams,
    InitializeResult,
    JSONRPCRequest,
    PaginatedRequestParams,
    ServerCapabilities,
    ToolsCapability,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION
from pydantic import BaseModel

from shared.auth.context import RequestContext
from shared.errors import DomainError
from shared.mcp_server import tools
from shared.mcp_server.rpc import McpFault, failure, parse_message, parse_params, success
from shared.runtime.context import Runtime
from shared.streams.follow import RunWatcher

SERVER_NAME = "LangGraph"
Params = dict[str, Any] | None
Handler = Callable[[Runtime, RequestContext, RunWatcher, Params], Awaitable[BaseModel]]


@dataclass
class Reply:
    """The HTTP answer: ``status`` and the JSON ``body`` (``None``: no body)."""

    status: int
    body: dict[str, Any] | None


async def _initialize(
    _rt: Runtime, ctx: RequestContext, _watcher: RunWatcher, params: Params
) -> BaseModel:
    asked = parse_params(InitializeRequestParams, params).protocol_version
    return InitializeResult(
        protocol_version=asked
        if asked in HANDSHAKE_PROTOCOL_VERSIONS
        else LATEST_HANDSHAKE_VERSION,
        capabilities=ServerCapabilities(tools=ToolsCapability(list_changed=False)),
        server_info=Implementation(name=SERVER_NAME, version=version("lg-deploy")),
    )


async def _ping(
    _rt: Runtime, ctx: RequestContext, _watcher: RunWatcher, _params: Params
) -> BaseModel:
    return EmptyResult()


async def _list_tools(
    rt: Runtime, ctx: RequestContext, _watcher: RunWatcher, params: Params
) -> BaseModel:
    return await tools.list_tools(rt, ctx, parse_params(PaginatedRequestParams, params).cursor)


async def _call_tool(
    rt: Runtime, ctx: RequestContext, watcher: RunWatcher, params: Params
) -> BaseModel:
    call = parse_params(CallToolRequestParams, params)
    return await tools.call_tool(rt, ctx, watcher, call, (params or {}).get("context"))


METHODS: dict[str, Handler] = {
    "initialize": _initialize,
    "ping": _ping,
    "tools/list": _list_tools,
    "tools/call": _call_tool,
}


def _refusal(code: int, message: str, data: Any = None) -> Reply:
    return Reply(400, failure(None, ErrorData(code=code, message=message, data=data)))


async def handle(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    body: bytes,
    *,
    acceptable: bool,
    protocol_version: str | None,
) -> Reply:
    """Answer one POST to ``/mcp``: ``body`` its bytes, ``acceptable`` whether its ``Accept``
    names ``application/json`` or ``text/event-stream``, ``protocol_version`` its
    ``MCP-Protocol-Version`` header.

    HTTP 400 with a JSON-RPC error for an unacceptable ``Accept`` or an unsupported version
    (-32600, -32022), a body that is not JSON (-32700) or not one JSON-RPC message (-32600);
    202 for notifications and responses; else 200 with the result or the error (-32601
    unknown method, -32602 bad params or unknown tool).
    """
    if not acceptable:
        return _refusal(
            INVALID_REQUEST,
            "Not Acceptable: Accept must name application/json or text/event-stream",
        )
    if protocol_version is not None and protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        supported = list(HANDSHAKE_PROTOCOL_VERSIONS)
        return _refusal(
            UNSUPPORTED_PROTOCOL_VERSION,
            f"Unsupported MCP-Protocol-Version {protocol_version!r}",
            {"supported": supported, "requested": protocol_version},
        )
    try:
        message = parse_message(body)
    except McpFault as fault:
        return Reply(fault.status, failure(None, fault.error))
    if not isinstance(message, JSONRPCRequest):
        return Reply(202, None)
    handler = METHODS.get(message.method)
    if handler is None:
        error = ErrorData(code=METHOD_NOT_FOUND, message=f"Method not found: {message.method}")
        return Reply(200, failure(message.id, error))
    try:
        return Reply(200, success(message.id, await handler(rt, ctx, watcher, message.params)))
    except McpFault as fault:
        return Reply(fault.status, failure(message.id, fault.error))
    except DomainError as exc:
        return Reply(200, failure(message.id, ErrorData(code=INVALID_PARAMS, message=exc.detail)))
