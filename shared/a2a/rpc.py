"""The JSON-RPC 2.0 envelope of the A2A endpoint: parse a request, shape results and errors.

Errors are the A2A 0.3 error models of ``a2a-sdk``; they travel with HTTP 200.
Source: Agent Server API, "A2A" (-32700 bad JSON, -32600 bad envelope, -32601 unknown method,
-32602 bad params, -32001 task not found, -32002 not cancelable, -32004 unsupported).
"""

from __future__ import annotations

from typing import Any, TypeVar

from a2a.compat.v0_3 import types as a2a
from pydantic import BaseModel, ValidationError

from shared.api.payload import Unstorable, loads
from shared.serde import to_jsonable

RequestId = str | int | None
Error = (
    a2a.JSONParseError
    | a2a.InvalidRequestError
    | a2a.MethodNotFoundError
    | a2a.InvalidParamsError
    | a2a.TaskNotFoundError
    | a2a.TaskNotCancelableError
    | a2a.UnsupportedOperationError
)
ParamsT = TypeVar("ParamsT", bound=BaseModel)


class RpcFault(Exception):
    """A JSON-RPC error to answer ``request_id`` with (``error``: an A2A error model)."""

    def __init__(self, error: Error, request_id: RequestId = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.request_id = request_id


def invalid_params(message: str, data: Any = None) -> RpcFault:
    """A -32602 fault."""
    return RpcFault(a2a.InvalidParamsError(message=message, data=data))


def task_not_found(task_id: str) -> RpcFault:
    """A -32001 fault for ``task_id``."""
    return RpcFault(a2a.TaskNotFoundError(message=f"Task '{task_id}' not found"))


def unsupported(message: str) -> RpcFault:
    """A -32004 fault: the operation is valid but not possible (a terminal task's message)."""
    return RpcFault(a2a.UnsupportedOperationError(message=message))


def _id_of(raw: Any) -> RequestId:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def parse_request(body: bytes) -> a2a.JSONRPCRequest:
    """The request in ``body``: an object with ``jsonrpc: "2.0"``, a string ``method``, a
    string or integer ``id`` and object ``params`` (optional).

    Raises RpcFault: -32700 when ``body`` is not JSON, -32602 for ``params`` that are not an
    object, -32600 for JSON lg-deploy does not take (:mod:`shared.api.payload`: NUL, lone
    surrogates, integers beyond 64 bits, deep nesting) and for any other shape.
    """
    try:
        raw = loads(body)
    except Unstorable as exc:
        raise RpcFault(a2a.InvalidRequestError(message=f"Invalid request: {exc}")) from exc
    except ValueError as exc:  # not JSON, not UTF-8
        raise RpcFault(a2a.JSONParseError(message=f"Invalid JSON: {exc}")) from exc
    request_id = _id_of(raw)
    if (
        not isinstance(raw, dict)
        or raw.get("jsonrpc") != "2.0"
        or request_id is None
        or not isinstance(raw.get("method"), str)
    ):
        raise RpcFault(
            a2a.InvalidRequestError(
                message="Invalid request: expected a JSON-RPC 2.0 object with jsonrpc '2.0',"
                " a string method and a string or integer id"
            ),
            request_id,
        )
    if raw.get("params") is not None and not isinstance(raw["params"], dict):
        raise RpcFault(a2a.InvalidParamsError(message="params must be an object"), request_id)
    try:
        return a2a.JSONRPCRequest.model_validate(raw)
    except ValidationError as exc:
        raise RpcFault(
            a2a.InvalidRequestError(message="Invalid request", data=to_jsonable(exc.errors())),
            request_id,
        ) from exc


def parse_params(model: type[ParamsT], params: dict[str, Any] | None) -> ParamsT:
    """``params`` validated as ``model``. Raises RpcFault -32602 with pydantic's errors."""
    try:
        return model.model_validate(params or {})
    except ValidationError as exc:
        raise invalid_params("Invalid params", to_jsonable(exc.errors())) from exc


def dump(model: BaseModel) -> dict[str, Any]:
    """A wire model as JSON: camelCase names, unset optional fields left out."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def success(request_id: RequestId, result: BaseModel) -> dict[str, Any]:
    """The JSON-RPC success response carrying ``result``."""
    return dump(a2a.JSONRPCSuccessResponse(id=request_id, result=dump(result)))


def failure(request_id: RequestId, error: Error) -> dict[str, Any]:
    """The JSON-RPC error response carrying ``error`` (``id`` is ``null`` when unknown)."""
    return {**dump(a2a.JSONRPCErrorResponse(id=request_id, error=error)), "id": request_id}
