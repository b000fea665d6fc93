"""MCP (Model Context Protocol) over the run service: ``/mcp``, Streamable HTTP, stateless.

Each assistant is a tool; a tool call is a stateless run. Wire models come from ``mcp_types``
(the ``mcp.types`` namespace of the ``mcp`` package, importable without its transport stack).
Source: Agent Server API, "MCP".
"""
