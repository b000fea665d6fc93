"""The JSON-RPC 2.0 envelope of ``/mcp``: parse one message, shape results and errors.

Source: MCP Streamable HTTP transport and Agent Server API, "MCP" (a body that is not one
JSON-RPC 2.0 message is HTTP 400; method errors travel with HTTP 200).
"""

from __future__ import annotations

from typing import Any, TypeVar

from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from pydantic import BaseModel, ValidationError

from shared.api.payload import Unstorable, loads
from shared.serde import to_jsonable

ParamsT = TypeVar("ParamsT", bound=BaseModel)


class McpFault(Exception):
    """A JSON-RPC error to answer with, and the HTTP ``status`` to send it with."""

    def __init__(self, code: int, message: str, data: Any = None, *, status: int = 200) -> None:
        super().__init__(message)
        self.error = ErrorData(code=code, message=message, data=data)
        self.status = status


def parse_message(body: bytes) -> JSONRPCMessage:
    """The one JSON-RPC 2.0 message in ``body`` (request, notification, response or error).

    Raises McpFault with HTTP 400: -32700 when ``body`` is not JSON, -32600 for JSON lg-deploy
    does not take (:mod:`shared.api.payload`: NUL, lone surrogates, integers beyond 64 bits,
    deep nesting) and for any other shape (a batch, no ``jsonrpc: "2.0"``, a bad ``id``).
    """
    try:
        raw = loads(body)
    except Unstorable as exc:
        raise McpFault(INVALID_REQUEST, f"Invalid request: {exc}", status=400) from exc
    except ValueError as exc:  # not JSON, not UTF-8
        raise McpFault(PARSE_ERROR, f"Parse error: {exc}", status=400) from exc
    invalid = McpFault(
        INVALID_REQUEST,
        "Invalid request: expected one JSON-RPC 2.0 message (jsonrpc '2.0', a method, and"
        " an integer or string id for requests)",
        status=400,
    )
    try:
        message = jsonrpc_message_adapter.validate_python(raw)
    except ValidationError as exc:
        raise invalid from exc
    if isinstance(message, JSONRPCNotification) and "id" in raw:  # an id it cannot be
        raise invalid
    return message


def parse_params(model: type[ParamsT], params: dict[str, Any] | None) -> ParamsT:
    """``params`` validated as ``model``. Raises McpFault -32602 with pydantic's errors."""
    try:
        return model.model_validate(params or {})
    except ValidationError as exc:
        raise McpFault(INVALID_PARAMS, "Invalid params", to_jsonable(exc.errors())) from exc


def success(request_id: RequestId, result: BaseModel) -> dict[str, Any]:
    """The JSON-RPC response carrying ``result`` (camelCase names, unset fields left out)."""
    body = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONRPCResponse(jsonrpc="2.0", id=request_id, result=body).model_dump(mode="json")


def failure(request_id: RequestId | None, error: ErrorData) -> dict[str, Any]:
    """The JSON-RPC error response carrying ``error`` (``id`` is ``null`` when unknown)."""
    exclude: Any = {"error": {"data"}} if error.data is None else None
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error).model_dump(
        mode="json", exclude=exclude
    )
