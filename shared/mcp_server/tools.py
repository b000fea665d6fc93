"""Assistants as MCP tools: list them, and call one as a stateless run.

A tool is named after its assistant (letters, digits, ``_`` and ``-``; anything else becomes
``_``); when several assistants share a name the oldest keeps it and the others are not listed.
Its ``inputSchema`` is the graph's input schema (as ``GET /assistants/{id}/schemas`` gives it).
A call runs the assistant on a temporary thread through the run service and waits for the end.
Source: Agent Server API, "MCP" (``tools/list``, ``tools/call``).
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    TextContent,
    Tool,
    ToolAnnotations,
)

from shared.api.runs import RunCreateStateless
from shared.auth.context import RequestContext
from shared.db import assistants as assistants_db
from shared.db import runs as runs_db
from shared.execution.temporary import discard_temporary_thread
from shared.mcp_server.rpc import McpFault
from shared.runtime.context import Runtime
from shared.services.access import scope_of
from shared.services.assistants import input_schema
from shared.services.runs import create_run
from shared.streams.follow import RunWatcher, wait_for_end

PAGE_SIZE = 100
"""Tools per ``tools/list`` page."""
READ_BATCH = 1000
NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 128


def tool_name(name: str) -> str:
    """An assistant name as a tool name: other characters than ASCII letters, digits, ``_``
    and ``-`` become ``_``; at most :data:`MAX_NAME` characters; ``""`` for a blank name."""
    return NOT_A_NAME.sub("_", name.strip())[:MAX_NAME]


async def named_assistants(rt: Runtime, ctx: RequestContext) -> dict[str, asyncpg.Record]:
    """Assistants of the project's graphs that ``ctx`` may search (``assistants.search``) by
    tool name, oldest first; a later assistant whose name gives a taken tool name is left
    out."""
    by_name: dict[str, asyncpg.Record] = {}
    offset = 0
    value: dict[str, Any] = {"graph_id": None, "metadata": {}, "limit": READ_BATCH, "offset": 0}
    scope = await scope_of(rt, ctx, "assistants", "search", value)
    while True:
        rows = await assistants_db.search(
            rt.db.pool,
            assistants_db.Filter(scope),
            sort_by="created_at",
            sort_order="asc",
            limit=READ_BATCH,
            offset=offset,
        )
        for row in rows:
            name = tool_name(row["name"] or "") or tool_name(row["graph_id"])
            if row["graph_id"] in rt.graphs and name not in by_name:
                by_name[name] = row
        if len(rows) < READ_BATCH:
            return by_name
        offset += len(rows)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise McpFault(INVALID_PARAMS, f"Invalid cursor {cursor!r}")
    return int(cursor)


async def _tool(rt: Runtime, ctx: RequestContext, name: str, row: asyncpg.Record) -> Tool:
    schema = await input_schema(rt, ctx, row)
    if not isinstance(schema, dict) or schema.get("type") != "object":
        schema = {"type": "object"}
    description = (
        row["description"]
        or rt.graphs.description(row["graph_id"])
        or f"Run the LangGraph assistant '{row['name']}' (graph '{row['graph_id']}')"
        " and return its final state values"
    )
    return Tool(
        name=name,
        description=description,
        input_schema=schema,
        annotations=ToolAnnotations(title=row["name"] or row["graph_id"]),
    )


async def list_tools(rt: Runtime, ctx: RequestContext, cursor: str | None) -> ListToolsResult:
    """``tools/list``: the page of :data:`PAGE_SIZE` tools at ``cursor`` (an offset; the next
    page's is ``nextCursor``). Raises McpFault -32602 for a malformed cursor."""
    start = _offset(cursor)
    named = list((await named_assistants(rt, ctx)).items())
    end = start + PAGE_SIZE
    return ListToolsResult(
        tools=[await _tool(rt, ctx, name, row) for name, row in named[start:end]],
        next_cursor=str(end) if end < len(named) else None,
    )


def _error_text(run: asyncpg.Record | None) -> str:
    if run is None:
        return "The run was deleted before it ended"
    if run["status"] == "interrupted":
        return "The run was cancelled"
    return str((run["error"] or {}).get("error", "Error"))  # the exception's name, as official


async def call_tool(
    rt: Runtime,
    ctx: RequestContext,
    watcher: RunWatcher,
    params: CallToolRequestParams,
    context: Any,
) -> CallToolResult:
    """``tools/call``: run the tool's assistant with ``arguments`` as input (and ``context``,
    an object, as the run context) on a temporary thread; the result is the final values as
    text written as the official server writes it (Python's ``repr`` of the values, e.g.
    ``{'items': ['a']}``), and as ``structuredContent`` when an object. A run that ended in
    error gives ``isError: true`` with the exception's name as text (as the official server),
    one that timed out or was cancelled says so.

    Raises McpFault -32602 (unknown tool, ``context`` not an object) and DomainError (the run
    was refused).
    """
    if context is not None and not isinstance(context, dict):
        raise McpFault(INVALID_PARAMS, "context must be an object")
    row = (await named_assistants(rt, ctx)).get(params.name)
    if row is None:
        raise McpFault(INVALID_PARAMS, f"Unknown tool: {params.name}")
    body = RunCreateStateless.model_validate(
        {
            "assistant_id": str(row["assistant_id"]),
            "input": params.arguments or {},
            "context": context,
        }
    )
    created = await create_run(rt, ctx, None, body, awaited=True)
    run_id = created["run_id"]
    try:
        async for _ in wait_for_end(rt.db.pool, watcher, run_id):
            pass
        run = await runs_db.get(rt.db.pool, run_id)
    finally:
        discard_temporary_thread(rt, created["thread_id"], read=True)
    if run is None or run["status"] != "success":
        return CallToolResult(content=[TextContent(text=_error_text(run))], is_error=True)
    result = run["result"]
    return CallToolResult(
        content=[TextContent(text=repr(result))],
        structured_content=result if isinstance(result, dict) else None,
    )
