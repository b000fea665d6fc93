"""Types shared by the request and response models of the Agent Server API."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from shared.api.payload import INT64_MAX

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


class Model(BaseModel):
    """Base of request models: unknown fields are ignored, as newer SDKs may send more. The
    values were checked where they entered (:mod:`shared.api.payload`)."""

    model_config = ConfigDict(extra="ignore")


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
    """A run's or an assistant's ``config``: ``tags``, ``recursion_limit`` and ``configurable``
    values, plus any other ``RunnableConfig`` key. The keys LangGraph reads are typed and may be
    left out but not ``null`` (422, as the official server's schema says for the first three):
    an assistant storing a value of another type would fail every run on it. ``callbacks`` are
    objects, which JSON cannot carry."""

    model_config = ConfigDict(extra="allow")
    tags: list[str] | None = None
    recursion_limit: int | None = Field(None, ge=1)
    configurable: dict[str, Any] | None = None
    max_concurrency: int | None = Field(None, ge=1)
    callbacks: None = Field(None, description="not settable through the API")

    @field_validator("tags", "recursion_limit", "configurable", "max_concurrency", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the key out instead")
        return value


Offset = Annotated[int, Field(ge=0, le=INT64_MAX, description="rows to skip")]
"""A page's ``offset``: up to PostgreSQL's ``bigint`` (``OFFSET``)."""


class Pagination(Model):
    """``limit``/``offset`` of search endpoints."""

    limit: int = Field(10, ge=1, le=1000)
    offset: Offset = 0


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


class Problem(BaseModel):
    """One problem of a 422: where (``loc``: ``body``/``query``/``path`` then keys and
    indexes), what (``msg``) and which kind (``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer of the API: ``{"detail": message}``, or for 422 the problems."""

    detail: str | list[Problem]


@cache
def _selection(model: type[BaseModel]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (info.annotation, None) for name, info in model.model_fields.items()
    }
    return create_model(f"{model.__name__}Selection", **fields)


def selectable(model: type[BaseModel], *, many: bool = False) -> Any:
    """The OpenAPI answer model of an endpoint with a ``select`` parameter: ``model``, or
    ``model`` with every field optional (``<Model>Selection``) when fields are selected; a
    list of those with ``many``."""
    item = model | _selection(model)
    return list[item] if many else item  # type: ignore[valid-type]
