"""Cron endpoints: ``/runs/crons*`` and ``/threads/{thread_id}/runs/crons``.

Source: Agent Server API, "Crons". The crons fire from the cron function (``functions/cron``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors, paginated
from shared.api.common import selectable
from shared.api.crons import Cron, CronCount, CronCreate, CronPatch, CronSearch, ThreadCronCreate
from shared.services import crons as service

router = APIRouter(tags=["crons"], route_class=EdgeRoute)
CRON_DOC: dict[int | str, dict[str, Any]] = {200: {"model": Cron}, **errors(404)}
CREATE_DOC: dict[int | str, dict[str, Any]] = {**CRON_DOC, **errors(400)}


@router.post("/runs/crons", responses=CREATE_DOC)
async def create_cron(body: CronCreate, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create a stateless cron: each firing runs on a new thread, deleted after the run unless
    ``on_run_completed`` is ``keep``. 422 for an invalid schedule or timezone."""
    return Json(await service.create_cron(rt, ctx, None, body))


@router.post("/threads/{thread_id}/runs/crons", responses=CREATE_DOC)
async def create_thread_cron(
    thread_id: uuid.UUID, body: ThreadCronCreate, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """Create a cron whose runs run on ``thread_id`` (with its ``multitask_strategy``)."""
    return Json(await service.create_cron(rt, ctx, thread_id, body))


@router.post("/runs/crons/search", responses={200: {"model": selectable(Cron, many=True)}})
async def search_crons(body: CronSearch, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Crons matching the filters; headers ``X-Pagination-Total`` and ``X-Pagination-Next``."""
    page = await service.search_crons(rt, ctx, body)
    return paginated(page.items, page.total, page.next_offset)


@router.post("/runs/crons/count", responses={200: {"model": int}})
async def count_crons(body: CronCount, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """How many crons match the filters."""
    return Json(await service.count_crons(rt, ctx, body))


@router.get("/runs/crons/{cron_id}", responses=CRON_DOC)
async def get_cron(cron_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """One cron."""
    return Json(await service.get_cron(rt, ctx, cron_id))


@router.patch("/runs/crons/{cron_id}", responses=CREATE_DOC)
async def update_cron(cron_id: uuid.UUID, body: CronPatch, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Update a cron (an empty body is 400; ``end_time: null`` clears the end time)."""
    return Json(await service.update_cron(rt, ctx, cron_id, body))


@router.delete("/runs/crons/{cron_id}", status_code=204, responses=errors(404))
async def delete_cron(cron_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Delete a cron; the runs it created stay."""
    await service.delete_cron(rt, ctx, cron_id)
    return Response(status_code=204)
