"""Request and response models of the cron endpoints (``/runs/crons*``,
``/threads/{thread_id}/runs/crons``), and the schedule arithmetic they validate with.

Source: Agent Server API, "Crons" (CronCreate, ThreadCronCreate, CronPatch, CronSearch,
CronCountRequest and the Cron object); bodies as ``langgraph_sdk`` 0.4 ``CronClient`` sends them.
A schedule is a 5-field cron expression (or a ``croniter`` alias such as ``@daily``), read in an
IANA ``timezone`` (UTC when none).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from pydantic import BaseModel, Field, field_validator

from shared.api.common import (
    Config,
    Durability,
    Json,
    Model,
    MultitaskStrategy,
    OnCompletion,
    Pagination,
    Sorting,
    StreamMode,
)

CronSortBy = Literal[
    "cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at", "updated_at"
]
CronField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "enabled",
]


def zone(timezone: str | None) -> ZoneInfo:
    """The IANA zone named ``timezone`` (UTC for ``None``). Raises ValueError if unknown."""
    try:
        return ZoneInfo("UTC" if timezone is None else timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {timezone!r}") from exc


def next_run_after(schedule: str, timezone: str | None, after: datetime) -> datetime | None:
    """The first time strictly after ``after`` that ``schedule`` names, read in ``timezone``
    (a UTC datetime); ``None`` when the schedule names no future time (``0 0 30 2 *``).
    Raises ValueError for an unknown timezone."""
    local = after.astimezone(zone(timezone))
    try:
        due: datetime = croniter(schedule, local).get_next(datetime)
    except CroniterBadDateError:
        return None
    return due.astimezone(UTC)


def check_schedule(schedule: str) -> str:
    """``schedule`` stripped, if it is a 5-field cron expression (or a ``@`` alias) with a
    future time. Raises ValueError otherwise."""
    schedule = schedule.strip()
    fields = schedule.split()
    if not (len(fields) == 5 or (len(fields) == 1 and schedule.startswith("@"))):
        raise ValueError(f"schedule {schedule!r} must have 5 fields: minute hour day month weekday")
    if not croniter.is_valid(schedule):
        raise ValueError(f"schedule {schedule!r} is not a valid cron expression")
    if next_run_after(schedule, None, datetime.now(UTC)) is None:
        raise ValueError(f"schedule {schedule!r} never fires")
    return schedule


def _aware(value: datetime | None) -> datetime | None:
    """A naive ``end_time`` is read as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class CronRunFields(Model):
    """The run fields of a cron body (its ``payload``), as in ``POST /runs``."""

    input: Json | list[Any] | str | int | float | bool | None = None
    metadata: Json | None = None
    config: Config | None = None
    context: Json | None = None
    webhook: str | None = Field(None, min_length=1, max_length=65536)
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    stream_mode: StreamMode | list[StreamMode] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Durability | None = None
    checkpoint_during: bool | None = None


PAYLOAD_FIELDS = frozenset({*CronRunFields.model_fields, "assistant_id", "multitask_strategy"})
"""Fields of a cron body that make up its ``payload``: the body of the runs it creates."""


class _Schedule(BaseModel):
    """Validation of ``schedule``, ``timezone`` and ``end_time``, shared by create and patch."""

    @field_validator("schedule", check_fields=False)
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("end_time", check_fields=False)
    @classmethod
    def _end_time(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class ThreadCronCreate(CronRunFields, _Schedule):
    """Body of ``POST /threads/{thread_id}/runs/crons``: runs on that thread."""

    assistant_id: str = Field(..., min_length=1, description="assistant UUID or graph id")
    schedule: str = Field(..., description="5-field cron expression")
    timezone: str | None = Field(None, description="IANA timezone; UTC when null")
    end_time: datetime | None = Field(None, description="no firing after this time")
    enabled: bool = True
    multitask_strategy: MultitaskStrategy = "enqueue"


class CronCreate(ThreadCronCreate):
    """Body of ``POST /runs/crons``: a new thread per firing, deleted after its run unless
    ``on_run_completed`` is ``keep``."""

    on_run_completed: OnCompletion = "delete"


class CronPatch(CronRunFields, _Schedule):
    """Body of ``PATCH /runs/crons/{cron_id}``: given fields replace, ``metadata`` is merged,
    ``end_time: null`` clears the end time. At least one field is required."""

    schedule: str | None = None
    timezone: str | None = None
    end_time: datetime | None = None
    on_run_completed: OnCompletion | None = None
    enabled: bool | None = None


class CronCount(Model):
    """Body of ``POST /runs/crons/count``: ``assistant_id`` (UUID or graph id), ``thread_id``,
    ``metadata`` contained in the cron's."""

    assistant_id: str | None = None
    thread_id: UUID | None = None
    metadata: Json | None = None


class CronSearch(CronCount, Pagination, Sorting):
    """Body of ``POST /runs/crons/search`` (newest first without ``sort_by``); ``select``
    limits the returned fields."""

    enabled: bool | None = None
    sort_by: CronSortBy | None = None
    select: list[CronField] | None = Field(None, min_length=1)


class Cron(BaseModel):
    """A cron as every cron endpoint returns it."""

    cron_id: UUID
    assistant_id: UUID
    thread_id: UUID | None = Field(description="null for a stateless cron")
    user_id: str | None
    schedule: str
    timezone: str | None
    end_time: datetime | None
    payload: Json = Field(description="the body of the runs it creates")
    next_run_date: datetime | None
    metadata: Json
    on_run_completed: OnCompletion | None = Field(description="stateless crons only")
    enabled: bool
    created_at: datetime
    updated_at: datetime
