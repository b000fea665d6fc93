"""MCP envelope, tool names and the ``Accept`` rule (pure)."""

from __future__ import annotations

import pytest
from mcp_types import JSONRPCNotification, JSONRPCRequest, JSONRPCResponse

from functions.intake.responses import accepts
from shared.mcp_server.rpc import McpFault, parse_message
from shared.mcp_server.tools import tool_name


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}', JSONRPCRequest),
        (b'{"jsonrpc": "2.0", "id": "a", "method": "ping", "params": {}}', JSONRPCRequest),
        (b'{"jsonrpc": "2.0", "method": "notifications/initialized"}', JSONRPCNotification),
        (b'{"jsonrpc": "2.0", "id": 1, "result": {}}', JSONRPCResponse),
    ],
)
def test_one_message_of_each_kind_parses(body: bytes, kind: type) -> None:
    assert isinstance(parse_message(body), kind)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", -32700),
        (b"{", -32700),
        (b"[]", -32600),
        (b'{"id": 1, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
    ],
)
def test_anything_else_is_refused_with_http_400(body: bytes, code: int) -> None:
    with pytest.raises(McpFault) as fault:
        parse_message(body)
    assert fault.value.error.code == code and fault.value.status == 400


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        ("chat", "chat"),
        ("My Agent v2.0!", "My_Agent_v2_0_"),
        ("  padded  ", "padded"),
        ("ünïcode", "_n_code"),
        ("   ", ""),
        ("x" * 200, "x" * 128),
    ],
)
def test_tool_names_keep_letters_digits_underscore_and_dash(name: str, tool: str) -> None:
    assert tool_name(name) == tool


@pytest.mark.parametrize(
    ("accept", "media_type", "ok"),
    [
        (None, "application/json", True),
        ("application/json, text/event-stream", "text/event-stream", True),
        ("*/*", "application/json", True),
        ("application/*", "application/json", True),
        ("Application/JSON", "application/json", True),
        ("text/html", "application/json", False),
        ("application/json;q=0", "application/json", False),
        ("application/json; q=0.5", "application/json", True),
        ("text/*", "application/json", False),
    ],
)
def test_accept_header_rule(accept: str | None, media_type: str, ok: bool) -> None:
    assert accepts(accept, media_type) is ok
