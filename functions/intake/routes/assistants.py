"""Assistant endpoints: ``/assistants*``. Source: Agent Server API, "Assistants".

Assistant ids in paths must be UUIDs (422 otherwise), except ``/graph``, which also takes a
graph id.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors, paginated
from shared.api.assistants import (
    Assistant,
    AssistantCreate,
    AssistantFilter,
    AssistantPatch,
    AssistantSearch,
    AssistantVersion,
    AssistantVersionChange,
    AssistantVersionSearch,
    DrawableGraph,
    GraphSchema,
    GraphSchemaNoId,
)
from shared.api.common import selectable
from shared.services import assistants as service

router = APIRouter(tags=["assistants"], route_class=EdgeRoute)
ASSISTANT_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Assistant}, **errors(404)}
SUBGRAPHS_DOC: dict[int | str, dict[str, Any]] = {
    200: {"model": dict[str, GraphSchemaNoId]},
    **errors(404),
}


@router.post("/assistants", responses={**ASSISTANT_DOC, **errors(400, 409)})
async def create_assistant(body: AssistantCreate, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create an assistant for a graph (``if_exists``: ``raise`` → 409, ``do_nothing`` → the
    existing one). 404 for a graph not in the project."""
    return Json(await service.create_assistant(rt, ctx, body))


@router.post("/assistants/search", responses={200: {"model": selectable(Assistant, many=True)}})
async def search_assistants(body: AssistantSearch, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Assistants matching the filters; headers ``X-Pagination-Total`` (all matches) and
    ``X-Pagination-Next`` (offset of the next page, when there is one)."""
    page = await service.search_assistants(rt, ctx, body)
    return paginated(page.items, page.total, page.next_offset)


@router.post("/assistants/count", responses={200: {"model": int}})
async def count_assistants(body: AssistantFilter, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """How many assistants match the filters."""
    return Json(await service.count_assistants(rt, ctx, body))


@router.get("/assistants/{assistant_id}", responses=ASSISTANT_DOC)
async def get_assistant(assistant_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """One assistant at its current version."""
    return Json(await service.get_assistant(rt, ctx, assistant_id))


@router.patch("/assistants/{assistant_id}", responses={**ASSISTANT_DOC, **errors(400)})
async def update_assistant(
    assistant_id: uuid.UUID, body: AssistantPatch, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Store a new version (metadata merged, other given fields replaced) and make it current."""
    return Json(await service.update_assistant(rt, ctx, assistant_id, body))


@router.delete("/assistants/{assistant_id}", status_code=204, responses=errors(404))
async def delete_assistant(
    assistant_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep, delete_threads: bool = False
) -> Response:
    """Delete an assistant and its versions; ``delete_threads`` also deletes its threads."""
    await service.delete_assistant(rt, ctx, assistant_id, delete_threads)
    return Response(status_code=204)


@router.post(
    "/assistants/{assistant_id}/versions",
    responses={200: {"model": list[AssistantVersion]}, **errors(404)},
)
async def list_versions(
    assistant_id: uuid.UUID, body: AssistantVersionSearch, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Versions of an assistant, newest first."""
    return Json(await service.list_versions(rt, ctx, assistant_id, body))


@router.post("/assistants/{assistant_id}/latest", responses=ASSISTANT_DOC)
async def set_latest_version(
    assistant_id: uuid.UUID, body: AssistantVersionChange, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Make a stored version current (404 for an unknown version)."""
    return Json(await service.set_latest_version(rt, ctx, assistant_id, body.version))


@router.get(
    "/assistants/{assistant_id}/graph", responses={200: {"model": DrawableGraph}, **errors(404)}
)
async def get_graph(
    assistant_id: str, rt: RuntimeDep, ctx: CtxDep, xray: bool | int = False
) -> Response:
    """The drawable graph of an assistant (UUID) or of a graph's default assistant (graph id);
    ``xray`` (``true`` or a depth) draws subgraphs inline."""
    return Json(await service.drawable_graph(rt, ctx, assistant_id, xray))


@router.get(
    "/assistants/{assistant_id}/schemas", responses={200: {"model": GraphSchema}, **errors(404)}
)
async def get_schemas(assistant_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """JSON schemas of the assistant's graph: input, output, state, config, context."""
    return Json(await service.schemas(rt, ctx, assistant_id))


@router.get("/assistants/{assistant_id}/subgraphs", responses=SUBGRAPHS_DOC)
async def get_subgraphs(
    assistant_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep, recurse: bool = False
) -> Response:
    """Schemas of the graph's subgraphs by namespace (nested ones too with ``recurse``)."""
    return Json(await service.subgraphs(rt, ctx, assistant_id, None, recurse))


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}", responses=SUBGRAPHS_DOC)
async def get_subgraph(
    assistant_id: uuid.UUID, namespace: str, rt: RuntimeDep, ctx: CtxDep, recurse: bool = False
) -> Response:
    """Schemas of the subgraph at ``namespace`` (and below it with ``recurse``)."""
    return Json(await service.subgraphs(rt, ctx, assistant_id, namespace, recurse))
