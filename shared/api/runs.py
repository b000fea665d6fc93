"""Request and response models of the run endpoints (``/threads/{id}/runs*``, ``/runs*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.api.common import (
    CancelAction,
    CheckpointRef,
    Command,
    Config,
    Durability,
    IfNotExists,
    Json,
    Model,
    MultitaskStrategy,
    OnCompletion,
    OnDisconnect,
    RunStatus,
    StreamMode,
)


class RetryPolicy(Model):
    """lg-deploy extension: retry a run whose graph raised, from its last checkpoint.

    Attempt ``n`` (counting from 1) that fails is retried after
    ``min(initial_delay_seconds * backoff_factor ** (n - 1), max_delay_seconds)`` seconds
    (up to half of it less with ``jitter``), until ``max_attempts`` attempts were made.
    ``retry_on`` limits retries to these exception type names (default: any).
    """

    max_attempts: int = Field(3, ge=1, le=20)
    initial_delay_seconds: float = Field(1.0, ge=0, le=3600)
    backoff_factor: float = Field(2.0, ge=1, le=10)
    max_delay_seconds: float = Field(60.0, ge=0, le=86400)
    jitter: bool = True
    retry_on: list[str] | None = None


class RunCreateStateless(Model):
    """Body of ``POST /runs``, ``/runs/stream``, ``/runs/wait`` and items of ``/runs/batch``."""

    assistant_id: str = Field(..., min_length=1, description="assistant UUID or graph id")
    input: Json | list[Any] | str | int | float | bool | None = None
    command: Command | None = None
    metadata: Json | None = None
    config: Config | None = None
    context: Json | None = None
    webhook: str | None = None
    stream_mode: StreamMode | list[StreamMode] = Field(default="values", validate_default=True)
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    feedback_keys: list[str] | None = None
    on_completion: OnCompletion = "delete"
    on_disconnect: OnDisconnect = "continue"
    after_seconds: float | None = Field(None, ge=0, le=86400 * 365)
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    durability: Durability | None = None
    checkpoint_during: bool | None = None
    if_not_exists: IfNotExists = "create"
    multitask_strategy: MultitaskStrategy = "enqueue"
    retry_policy: RetryPolicy | None = Field(
        default=None, description="lg-deploy extension: retry the run if its graph raises"
    )

    @field_validator("stream_mode")
    @classmethod
    def _as_list(cls, value: StreamMode | list[StreamMode]) -> list[StreamMode]:
        """One mode or several, stored as a de-duplicated list."""
        return [value] if isinstance(value, str) else list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _durability(self) -> RunCreateStateless:
        if self.durability is None:
            self.durability = "exit" if self.checkpoint_during is False else "async"
        return self


class RunCreateStateful(RunCreateStateless):
    """Body of ``POST /threads/{thread_id}/runs`` (and ``/stream``, ``/wait``)."""

    checkpoint_id: str | None = None
    checkpoint: CheckpointRef | None = None
    if_not_exists: IfNotExists = "reject"


class RunBatchItem(RunCreateStateless):
    """One item of ``POST /runs/batch``."""


RunField = Literal[
    "run_id",
    "thread_id",
    "assistant_id",
    "metadata",
    "status",
    "kwargs",
    "multitask_strategy",
    "created_at",
    "updated_at",
    "langsmith_session_name",
    "attempt",
]
"""Fields ``GET /threads/{thread_id}/runs`` can ``select`` (those of :class:`Run`)."""
RUN_FIELDS: tuple[str, ...] = get_args(RunField)


class Run(BaseModel):
    """A run as returned by every run endpoint (the official server's fields and order)."""

    run_id: UUID
    thread_id: UUID
    assistant_id: UUID
    metadata: Json
    status: RunStatus
    kwargs: Json
    multitask_strategy: MultitaskStrategy
    created_at: datetime
    updated_at: datetime
    langsmith_session_name: str | None = Field(
        None, description="always null: lg-deploy sends no LangSmith traces"
    )
    attempt: int = Field(description="executor attempts so far (lg-deploy extension)")


class BulkCancel(Model):
    """Body of ``POST /runs/cancel``: a ``thread_id`` with ``run_ids``, or a ``status``."""

    thread_id: UUID | None = None
    run_ids: list[UUID] | None = None
    status: Literal["pending", "running", "all"] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> BulkCancel:
        if self.status is not None and (self.thread_id or self.run_ids):
            raise ValueError("give either status or thread_id/run_ids, not both")
        if self.status is None and not self.run_ids:
            raise ValueError("give run_ids (with thread_id) or a status")
        return self


class CancelQuery(BaseModel):
    """Query of the cancel endpoints."""

    action: CancelAction = "interrupt"
    wait: bool = False
