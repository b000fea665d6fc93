"""JSON encoding of graph output for the wire and for storage.

Graph state holds LangChain messages, pydantic models, dataclasses, ``Interrupt`` objects and
exceptions; :func:`dumps` turns each into the plain JSON the Agent Server API sends.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from langgraph.types import Command, Interrupt, Send
from pydantic import BaseModel


def serialize_error(exc: BaseException) -> dict[str, str]:
    """``{"error": <exception type>, "message": <text>}``, the shape of SSE ``error`` events."""
    return {"error": type(exc).__name__, "message": str(exc)}


def interrupts_to_api(interrupts: Iterable[Interrupt]) -> list[dict[str, Any]]:
    """Interrupts as a thread's ``interrupts`` and a ThreadState list them: ``{id, value}``,
    plus ``response_schema`` when the interrupt has one (the official server's shape there;
    streamed interrupts carry every field)."""
    out = []
    for i in interrupts:
        item = {"id": i.id, "value": i.value}
        if i.response_schema is not None:
            item["response_schema"] = i.response_schema
        out.append(to_jsonable(item))
    return out


def _default(obj: Any) -> Any:
    if isinstance(obj, uuid.UUID):  # asyncpg's UUID subclass is not orjson's native type
        return str(obj)
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Interrupt):  # as streamed: every field, ``response_schema`` even if null
        return {"value": obj.value, "id": obj.id, "response_schema": obj.response_schema}
    if isinstance(obj, Send):  # the official server's spelling: "args"
        return {"node": obj.node, "args": obj.arg}
    if isinstance(obj, Command):
        return {k: v for k, v in dataclasses.asdict(obj).items() if v is not None and v != ()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, BaseException):
        return serialize_error(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
        return list(obj)
    if hasattr(obj, "to_json"):
        return obj.to_json()
    return repr(obj)


_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(obj: Any) -> bytes:
    """``obj`` as UTF-8 JSON bytes; unknown objects fall back to their ``repr``."""
    return orjson.dumps(obj, default=_default, option=_OPTS)


def dumps_str(obj: Any) -> str:
    """:func:`dumps` as ``str``."""
    return dumps(obj).decode()


def to_jsonable(obj: Any) -> Any:
    """``obj`` reduced to JSON types (dict, list, str, numbers, bool, None)."""
    return orjson.loads(dumps(obj))


loads = orjson.loads
