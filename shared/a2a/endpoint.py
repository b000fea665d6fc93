"""One A2A JSON-RPC request in, one JSON-RPC response (or a stream of them) out.

Source: Agent Server API, "A2A": methods ``message/send``, ``message/stream`` (SSE, needs
``Accept: text/event-stream``), ``tasks/get``, ``tasks/cancel``; only chat assistants; errors
with HTTP 200, a non-JSON ``Accept`` for a non-streaming method is HTTP 400.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
from a2a.compat.v0_3 import types as a2a
from pydantic import BaseModel

from shared.a2a import rpc, tasks
from shared.auth.context import RequestContext
from shared.errors import BadRequest, DomainError
from shared.runtime.context import Runtime
from shared.streams.follow import RunWatcher

Handler = Callable[
    [Runtime, RequestContext, RunWatcher, asyncpg.Record, dict[str, Any] | None],
    Awaitable[BaseModel],
]
Frames = AsyncIterator[dict[str, Any] | None]


async def _send(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: dict[str, Any] | None,
) -> BaseModel:
    return await tasks.send(
        rt, ctx, watcher, assistant, rpc.parse_params(a2a.MessageSendParams, params)
    )


async def _get(
    rt: Runtime,
    ctx: RequestContext,
    _watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: dict[str, Any] | None,
) -> BaseModel:
    return await tasks.get_task(rt, ctx, assistant, rpc.parse_params(a2a.TaskQueryParams, params))


async def _cancel(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant: asyncpg.Record,
    params: dict[str, Any] | None,
) -> BaseModel:
    return await tasks.cancel_task(
        rt, ctx, watcher, assistant, rpc.parse_params(a2a.TaskIdParams, params)
    )


HANDLERS: dict[str, Handler] = {"message/send": _send, "tasks/get": _get, "tasks/cancel": _cancel}
STREAMING = "message/stream"


async def handle(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant_id: str,
    body: bytes,
    *,
    accepts_json: bool,
    accepts_sse: bool,
) -> dict[str, Any] | Frames:
    """Answer the JSON-RPC request ``body`` sent to ``POST /a2a/{assistant_id}``.

    Returns the JSON-RPC response, or for ``message/stream`` the JSON-RPC responses to send
    as SSE (``None``: a keep-alive; an error after the envelope is one error frame).
    Raises BadRequest when the client does not accept the method's media type
    (``accepts_json`` / ``accepts_sse``: what its ``Accept`` header admits).
    """
    try:
        request = rpc.parse_request(body)
    except rpc.RpcFault as fault:
        return rpc.failure(fault.request_id, fault.error)
    method, request_id = request.method, request.id
    if method != STREAMING and method not in HANDLERS:
        error = a2a.MethodNotFoundError(message=f"Method '{method}' not found")
        return rpc.failure(request_id, error)
    if method == STREAMING:
        if not accepts_sse:
            raise BadRequest("message/stream answers with text/event-stream; accept it")
        return _frames(rt, ctx, watcher, assistant_id, request)
    if not accepts_json:
        raise BadRequest(f"{method} answers with application/json; accept it")
    try:
        assistant = await tasks.chat_assistant(rt, ctx, assistant_id)
        return rpc.success(
            request_id, await HANDLERS[method](rt, ctx, watcher, assistant, request.params)
        )
    except rpc.RpcFault as fault:
        return rpc.failure(request_id, fault.error)
    except DomainError as exc:
        return rpc.failure(request_id, a2a.InvalidParamsError(message=exc.detail))


async def _frames(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    assistant_id: str,
    request: a2a.JSONRPCRequest,
) -> Frames:
    try:
        assistant = await tasks.chat_assistant(rt, ctx, assistant_id)
        params = rpc.parse_params(a2a.MessageSendParams, request.params)
        async for item in tasks.stream(rt, ctx, watcher, assistant, params):
            yield None if item is None else rpc.success(request.id, item)
    except rpc.RpcFault as fault:
        yield rpc.failure(request.id, fault.error)
    except DomainError as exc:
        yield rpc.failure(request.id, a2a.InvalidParamsError(message=exc.detail))
