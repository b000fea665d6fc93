"""MCP Streamable HTTP without sessions at ``/mcp`` (Agent Server API, "MCP").

Raw JSON-RPC over httpx for the wire rules, and the official ``mcp`` client (``mcp.Client`` over
``mcp.client.streamable_http``), which works against this stateless server unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from tests.support import Server

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CHAT_ARGS = {"messages": [{"role": "user", "content": "hi"}]}
REPLY = "hello there friend"
INIT = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "t", "version": "1"},
}


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=HEADERS) as c:
        yield c


async def _rpc(http: httpx.AsyncClient, method: str, params: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        body["params"] = params
    response = await http.post("/mcp", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in response.headers
    reply = dict(response.json())
    assert reply["jsonrpc"] == "2.0" and reply["id"] == 7
    return reply


async def _result(http: httpx.AsyncClient, method: str, params: Any = None) -> Any:
    reply = await _rpc(http, method, params)
    assert "error" not in reply, reply
    return reply["result"]


async def _runs_created(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith("lgd_runs_created_total "))
    return float(line.split()[1])


async def _all_tools(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await _result(http, "tools/list", {"cursor": cursor} if cursor else {})
        tools += page["tools"]
        cursor = page.get("nextCursor")
        if cursor is None:
            return tools


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ],
)
async def test_initialize_echoes_a_supported_version_else_the_latest(
    http: httpx.AsyncClient, asked: str, answered: str
) -> None:
    result = await _result(http, "initialize", {**INIT, "protocolVersion": asked})
    assert result["protocolVersion"] == answered
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "LangGraph" and result["serverInfo"]["version"]


async def test_ping_and_notifications(http: httpx.AsyncClient) -> None:
    assert await _result(http, "ping") == {}
    for message in (
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
        {"jsonrpc": "2.0", "id": 3, "result": {}},
    ):
        response = await http.post("/mcp", json=message)
        assert response.status_code == 202 and response.content == b""


async def test_tools_list_has_one_tool_per_assistant_name_with_its_input_schema(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    await client.assistants.create("echo", name=f"dup {tag}!", description="first")
    await client.assistants.create("chat", name=f"dup {tag}?", description="second")
    tools = await _all_tools(http)
    names = [t["name"] for t in tools]
    assert len(names) == len(set(names))
    assert {"chat", "echo", "fail"} <= set(names)
    by_name = {t["name"]: t for t in tools}
    [dup] = [t for t in tools if t["name"] == f"dup_{tag}_"]
    assert dup["description"] == "first"
    assert dup["inputSchema"]["type"] == "object" and "items" in dup["inputSchema"]["properties"]
    assert "messages" in by_name["chat"]["inputSchema"]["properties"]
    last = await _result(http, "tools/list", {"cursor": str(len(tools) - 1)})
    assert [t["name"] for t in last["tools"]] == names[-1:] and "nextCursor" not in last
    beyond = await _result(http, "tools/list", {"cursor": str(len(tools) + 5)})
    assert beyond["tools"] == []


async def test_tools_call_runs_the_assistant_statelessly_and_answers_its_final_values(
    http: httpx.AsyncClient, client: LangGraphClient
) -> None:
    threads = await client.threads.count()
    result = await _result(http, "tools/call", {"name": "chat", "arguments": CHAT_ARGS})
    assert result["isError"] is False
    [content] = result["content"]
    assert content["type"] == "text"
    values = result["structuredContent"]
    assert [m["content"] for m in values["messages"]] == ["hi", REPLY]
    assert content["text"] == repr(values)  # the official server's text: Python's repr
    assert await client.threads.count() == threads  # the run's thread was temporary


async def test_tools_call_of_a_failing_graph_is_an_error_result(http: httpx.AsyncClient) -> None:
    result = await _result(http, "tools/call", {"name": "fail", "arguments": {}})
    assert result["isError"] is True
    assert result["content"] == [{"type": "text", "text": "ValueError"}]  # as official


async def test_tools_call_text_is_written_as_the_official_server_writes_it(
    http: httpx.AsyncClient,
) -> None:
    params = {"name": "echo", "arguments": {"items": ["a", 1, None, True]}}
    result = await _result(http, "tools/call", params)
    assert result["content"] == [{"type": "text", "text": "{'items': ['a', 1, None, True, 'one']}"}]


async def test_tools_call_passes_context(http: httpx.AsyncClient) -> None:
    params = {"name": "echo", "arguments": {"items": ["a"]}, "context": {"k": "v"}}
    result = await _result(http, "tools/call", params)
    assert result["structuredContent"] == {"items": ["a", "one"]}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{", 400, -32700),
        (b"[]", 400, -32600),
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', 400, -32600),
        (b'{"id": 1, "method": "ping"}', 400, -32600),
        (b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', 400, -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "resources/list"}', 200, -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}', 200, -32602),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": "x"}}',
            200,
            -32602,
        ),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}', 200, -32602),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "nope"}}',
            200,
            -32602,
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call",'
            b' "params": {"name": "echo", "context": 3}}',
            200,
            -32602,
        ),
    ],
)
async def test_bad_messages_get_json_rpc_errors_and_create_nothing(
    http: httpx.AsyncClient, body: bytes, status: int, code: int
) -> None:
    before = await _runs_created(http)
    response = await http.post("/mcp", content=body)
    assert response.status_code == status
    reply = response.json()
    assert reply["jsonrpc"] == "2.0" and reply["error"]["code"] == code
    assert reply["id"] == (1 if status == 200 else None)
    assert await _runs_created(http) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "text/html"},
        {"Accept": "application/json;q=0"},
        {"MCP-Protocol-Version": "2099-01-01"},
    ],
)
async def test_unacceptable_headers_are_400(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    response = await http.post("/mcp", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in (-32600, -32022)


async def test_missing_accept_is_400(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as bare:
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'
        request = bare.build_request("POST", "/mcp", content=body)
        del request.headers["Accept"]
        assert (await bare.send(request)).status_code == 400


async def test_get_is_405_delete_is_a_no_op_and_trailing_slash_redirects(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/mcp")).status_code == 405
    assert (await http.delete("/mcp")).status_code == 204
    moved = await http.post("/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert moved.status_code == 307 and moved.headers["location"].endswith("/mcp")


async def test_official_mcp_client_lists_and_calls_tools(server: Server) -> None:
    from mcp import Client

    async with Client(f"{server.url}/mcp") as mcp:
        tools = await mcp.list_tools()
        assert "chat" in {t.name for t in tools.tools}
        result = await mcp.call_tool("chat", CHAT_ARGS)
        assert not result.is_error
        assert result.structured_content["messages"][-1]["content"] == REPLY
        failed = await mcp.call_tool("fail", {})
        assert failed.is_error
