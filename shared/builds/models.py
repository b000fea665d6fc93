"""The build request a CloudEvent carries and the Build record the builder answers with.

A request is a CloudEvent of type ``dev.lgdeploy.build.requested`` whose ``data`` is a JSON object
``{"repo": <git URL or local path>, "ref": <branch, tag or commit; default "HEAD">,
"config": <path of langgraph.json in the repository; default "langgraph.json">}``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import PurePosixPath
from typing import Literal

from cloudevents.core.base import BaseCloudEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.cloud_events.http import InvalidEvent, check_type
from shared.cloud_events.types import BUILD_REQUESTED, data_object

_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]*")


class BuildRequest(BaseModel):
    """``data`` of a ``dev.lgdeploy.build.requested`` CloudEvent; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: str = Field(min_length=1, max_length=2048, description="git URL or local path")
    ref: str = Field("HEAD", min_length=1, max_length=255, description="branch, tag or commit")
    config: str = Field(
        "langgraph.json", min_length=1, max_length=1024, description="langgraph.json path"
    )

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if value.startswith("-") or _CONTROL.search(value):
            raise ValueError("must be a git URL or path without spaces or control characters")
        return value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if (
            not _REF.fullmatch(value)
            or ".." in value
            or "//" in value
            or value.endswith(("/", ".", ".lock"))
        ):
            raise ValueError("must be a branch, tag or commit name (letters, digits and . _ / + -)")
        return value

    @field_validator("config")
    @classmethod
    def _config(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts or "\\" in value or _CONTROL.search(value):
            raise ValueError("must be a relative path inside the repository")
        return str(path)


class Build(BaseModel):
    """A build as ``GET /builds/{build_id}`` (and ``POST /``) of the builder answer it."""

    build_id: uuid.UUID
    repo: str
    ref: str
    config: str = Field(description="path of langgraph.json in the repository")
    commit: str | None = Field(description="the commit ref resolved to")
    status: Literal["queued", "running", "succeeded", "failed"]
    error: str | None = Field(description="why it failed (or the transient failure retried)")
    digest: str | None = Field(description="'sha256:<hex>' of the build context")
    graphs: list[str] = Field(description="graph ids of its langgraph.json")
    attempts: int
    event_source: str
    event_id: str
    created_at: datetime
    updated_at: datetime


def parse_build_event(event: BaseCloudEvent) -> BuildRequest:
    """The request in ``event``. Raises :class:`~shared.cloud_events.http.InvalidEvent` for
    another ``type`` or a ``data`` that is not a valid :class:`BuildRequest` JSON object."""
    check_type(event, (BUILD_REQUESTED,))
    try:
        return BuildRequest.model_validate(data_object(event))
    except ValidationError as exc:
        raise InvalidEvent(f"invalid build request data: {_explain(exc)}") from exc
    except ValueError as exc:
        raise InvalidEvent(f"invalid build request data: {exc}") from exc


def _explain(exc: ValidationError) -> str:
    """``field: problem; …`` of a validation error, without pydantic's links."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "data"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)
