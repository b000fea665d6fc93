"""Types shared by the request and response models of the Agent Server API."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StreamMode = Literal[
    "values",
    "messages",
    "messages-tuple",
    "updates",
    "events",
    "debug",
    "custom",
    "tasks",
    "checkpoints",
]
MultitaskStrategy = Literal["reject", "rollback", "interrupt", "enqueue"]
IfExists = Literal["raise", "do_nothing"]
IfNotExists = Literal["create", "reject"]
OnDisconnect = Literal["cancel", "continue"]
OnCompletion = Literal["delete", "keep"]
Durability = Literal["sync", "async", "exit"]
CancelAction = Literal["interrupt", "rollback"]
RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
SortOrder = Literal["asc", "desc"]
Json = dict[str, Any]


def storable(value: Any) -> Any:
    """``value`` unchanged if PostgreSQL ``jsonb`` can hold it; raises ValueError (a 422)
    for a string with a NUL character or a non-finite number anywhere inside it."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            raise ValueError("strings must not contain NUL characters (\\u0000)")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value


class Model(BaseModel):
    """Base of request models: unknown fields are ignored, as newer SDKs may send more, and
    every value must be storable in ``jsonb`` (see :func:`storable`)."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return storable(data)


class CheckpointRef(Model):
    """A checkpoint of a thread: ``checkpoint_id`` within namespace ``checkpoint_ns``."""

    thread_id: str | None = None
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, Any] | None = None


class Command(Model):
    """LangGraph ``Command``: ``resume`` an interrupt, ``update`` state, ``goto`` nodes."""

    update: Any = None
    resume: Any = None
    goto: Any = None


class Interrupt(BaseModel):
    """A pause raised by ``interrupt()``: its ``value`` and the ``id`` to resume."""

    value: Any
    id: str


class Config(Model):
    """A run's ``config``: ``tags``, ``recursion_limit`` and ``configurable`` values."""

    model_config = ConfigDict(extra="allow")
    tags: list[str] | None = None
    recursion_limit: int | None = Field(None, ge=1)
    configurable: dict[str, Any] | None = None


class Pagination(Model):
    """``limit``/``offset`` of search endpoints."""

    limit: int = Field(10, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class Sorting(Model):
    """``sort_by``/``sort_order`` of search endpoints, read as the official server reads them:
    without ``sort_by`` the endpoint's own order (:attr:`DEFAULT_ORDER`; ``sort_order`` is then
    ignored), with it descending unless ``sort_order`` is ``asc``."""

    DEFAULT_ORDER: ClassVar[tuple[str, SortOrder]] = ("created_at", "desc")
    sort_by: str | None = None
    sort_order: SortOrder | None = None

    def order(self) -> tuple[str, SortOrder]:
        """``(column, "asc" | "desc")`` to sort the search by."""
        if self.sort_by is None:
            return self.DEFAULT_ORDER
        return self.sort_by, self.sort_order or "desc"
