"""Request and response models of the thread endpoints (``/threads*``).

Source: Agent Server API, "Threads" (bodies as ``langgraph_sdk`` 0.4 sends them) and the
ThreadState shape.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from shared.api.common import (
    CheckpointRef,
    Command,
    IfExists,
    Interrupt,
    Json,
    Model,
    Pagination,
    Sorting,
    ThreadStatus,
)

ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]
ThreadField = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "status",
    "values",
    "interrupts",
]
PruneStrategy = Literal["delete", "keep_latest"]
StateValues = Json | list[Any] | None
_EXTRACT_PATH = re.compile(r"(values|metadata|config|interrupts)((?:\.[^.\[\]]+|\[-?\d+\])*)")
_EXTRACT_STEP = re.compile(r"\.([^.\[\]]+)|\[(-?\d+)\]")


def parse_extract_path(path: str) -> tuple[str, list[str]]:
    """``"values.messages[-1].content"`` as ``("values", ["messages", "-1", "content"])``.

    The root is ``values``, ``metadata``, ``config`` or ``interrupts``; keys follow ``.``, array
    indexes sit in ``[]`` (negative ones count from the end). Raises ValueError otherwise.
    """
    match = _EXTRACT_PATH.fullmatch(path)
    if match is None:
        raise ValueError(
            f"extract path {path!r} must look like values.key[index]... (roots: values,"
            " metadata, config, interrupts)"
        )
    return match.group(1), [key or index for key, index in _EXTRACT_STEP.findall(match.group(2))]


class TTL(Model):
    """A thread's time to live (``{"strategy", "ttl"}`` in minutes).

    Accepted for compatibility with the SDK; lg-deploy does not sweep expired threads yet.
    """

    strategy: PruneStrategy = "delete"
    ttl: float | None = Field(None, ge=0)


class SuperstepUpdate(Model):
    """One update of a superstep: ``values`` (or a ``command``) written as node ``as_node``."""

    values: StateValues = None
    command: Command | None = None
    as_node: str = Field(..., min_length=1)


class Superstep(Model):
    """Updates applied together as one superstep."""

    updates: list[SuperstepUpdate] = Field(..., min_length=1)


class ThreadCreate(Model):
    """Body of ``POST /threads``. ``supersteps`` need ``metadata.graph_id``."""

    thread_id: UUID | None = None
    metadata: Json | None = None
    if_exists: IfExists = "raise"
    ttl: TTL | None = None
    supersteps: list[Superstep] | None = None


class ThreadPatch(Model):
    """Body of ``PATCH /threads/{thread_id}``: ``metadata`` is merged into the stored one."""

    metadata: Json | None = None
    ttl: TTL | None = None


class ThreadCount(Model):
    """Body of ``POST /threads/count``; every filter is optional."""

    metadata: Json | None = None
    values: Json | None = None
    status: ThreadStatus | None = None


class ThreadSearch(ThreadCount, Pagination, Sorting):
    """Body of ``POST /threads/search``.

    ``metadata``/``values`` match by JSON containment; ``extract`` maps an alias to a path
    such as ``values.messages[-1]`` (see :func:`parse_extract_path`), answered in ``extracted``.
    Without ``sort_by`` the most recently updated thread comes first (the official default).
    """

    DEFAULT_ORDER = ("updated_at", "desc")
    ids: list[UUID] | None = None
    sort_by: ThreadSortBy | None = None
    select: list[ThreadField] | None = Field(None, min_length=1)
    extract: dict[str, str] | None = Field(None, max_length=10)

    @field_validator("extract")
    @classmethod
    def _paths(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for path in (value or {}).values():
            parse_extract_path(path)
        return value


class ThreadPrune(Model):
    """Body of ``POST /threads/prune``: ``delete`` threads, or ``keep_latest`` checkpoints."""

    thread_ids: list[UUID] = Field(..., max_length=1000)
    strategy: PruneStrategy = "delete"


class PruneResult(BaseModel):
    """Answer of ``POST /threads/prune``: how many of the given threads existed and were pruned."""

    pruned_count: int


class ThreadStateUpdate(Model):
    """Body of ``POST /threads/{thread_id}/state``: write ``values`` as node ``as_node``,
    on the latest checkpoint or on ``checkpoint``/``checkpoint_id`` (a fork)."""

    values: StateValues = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: CheckpointRef | None = None


class ThreadStateCheckpoint(Model):
    """Body of ``POST /threads/{thread_id}/state/checkpoint``."""

    checkpoint: CheckpointRef
    subgraphs: bool = False
    select: list[str] | None = None


class ThreadHistory(Model):
    """Body of ``POST /threads/{thread_id}/history``: newest first, at most ``limit``, older
    than ``before``, with checkpoint metadata containing ``metadata``, in namespace
    ``checkpoint.checkpoint_ns``."""

    limit: int = Field(1, ge=1, le=1000)
    before: str | CheckpointRef | None = None
    metadata: Json | None = None
    checkpoint: CheckpointRef | None = None
    select: list[str] | None = None


class Thread(BaseModel):
    """A thread as returned by the thread endpoints."""

    thread_id: UUID
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime
    metadata: Json
    status: ThreadStatus
    config: Json
    values: Any
    error: Any = Field(None, description="only once its state was stored; null unless it failed")
    interrupts: dict[str, Any] = Field(
        default_factory=dict,
        description="only once its state was stored (a run ended, a state update), as the"
        " official server answers",
    )
    extracted: dict[str, Any] | None = Field(None, description="only when searched with extract")


class CheckpointOut(BaseModel):
    """Where a state lives: thread, namespace and checkpoint id."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None
    checkpoint_map: dict[str, Any] | None = None


class ThreadTask(BaseModel):
    """A pending task of a state: its node, error, interrupts and (subgraph) state."""

    id: str
    name: str
    path: list[Any]
    error: str | None
    interrupts: list[Interrupt]
    checkpoint: CheckpointOut | None
    state: ThreadState | None
    result: Any = None


class ThreadState(BaseModel):
    """A thread's state at one checkpoint (``GET /threads/{id}/state``, history items)."""

    values: Any
    next: list[str]
    tasks: list[ThreadTask]
    metadata: Json | None
    created_at: str | None
    checkpoint: CheckpointOut | None
    parent_checkpoint: CheckpointOut | None
    interrupts: list[Interrupt]
    checkpoint_id: str | None
    parent_checkpoint_id: str | None


ThreadTask.model_rebuild()


class ThreadStateUpdated(BaseModel):
    """Answer of ``POST /threads/{thread_id}/state``: the checkpoint written."""

    checkpoint: CheckpointOut
    configurable: Json
    checkpoint_id: str
