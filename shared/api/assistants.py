"""Request and response models of the assistant endpoints (``/assistants*``).

Source: Agent Server API, "Assistants" and the Assistant object; bodies as ``langgraph_sdk``
0.4.x sends them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.api.common import Config, IfExists, Json, Model, Pagination, Sorting
from shared.api.payload import INT32_MAX

AssistantSortBy = Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"]
AssistantField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]


class AssistantCreate(Model):
    """Body of ``POST /assistants``. ``config.configurable`` and ``context`` exclude each other."""

    graph_id: str = Field(..., min_length=1, description="a graph id of the project")
    assistant_id: UUID | None = None
    config: Config | None = None
    context: Json | None = None
    metadata: Json | None = None
    if_exists: IfExists = "raise"
    name: str | None = None
    description: str | None = None


class AssistantPatch(Model):
    """Body of ``PATCH /assistants/{id}``: given fields replace, ``metadata`` is merged."""

    graph_id: str | None = Field(None, min_length=1)
    config: Config | None = None
    context: Json | None = None
    metadata: Json | None = None
    name: str | None = None
    description: str | None = None


class AssistantFilter(Model):
    """Body of ``POST /assistants/count``: ``graph_id`` equal, ``name`` a case-insensitive
    substring, ``metadata`` contained in the assistant's."""

    graph_id: str | None = None
    name: str | None = None
    metadata: Json | None = None


class AssistantSearch(AssistantFilter, Pagination, Sorting):
    """Body of ``POST /assistants/search``: filters, page, order (newest first without
    ``sort_by``) and the fields to return."""

    sort_by: AssistantSortBy | None = None
    select: list[AssistantField] | None = Field(None, min_length=1)


class AssistantVersionSearch(Pagination):
    """Body of ``POST /assistants/{id}/versions``: ``metadata`` containment and a page."""

    metadata: Json | None = None


class AssistantVersionChange(Model):
    """Body of ``POST /assistants/{id}/latest``: the version to make current."""

    version: int = Field(..., ge=1, le=INT32_MAX)


class AssistantVersion(BaseModel):
    """One stored version of an assistant (``POST /assistants/{id}/versions``)."""

    assistant_id: UUID
    graph_id: str
    config: Json
    context: Json
    metadata: Json
    name: str
    description: str | None
    version: int
    created_at: datetime


class Assistant(AssistantVersion):
    """An assistant at its current version."""

    updated_at: datetime


class GraphSchemaNoId(BaseModel):
    """JSON schemas of a graph; a schema is ``None`` when it cannot be generated."""

    input_schema: Json | None
    output_schema: Json | None
    state_schema: Json | None
    config_schema: Json | None
    context_schema: Json | None


class GraphSchema(GraphSchemaNoId):
    """``GET /assistants/{id}/schemas``: the schemas of the assistant's graph."""

    graph_id: str


class DrawableGraph(BaseModel):
    """``GET /assistants/{id}/graph``: nodes ``{id, type, data}`` and edges
    ``{source, target, conditional?}``."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
