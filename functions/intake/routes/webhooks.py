"""Webhook deliveries of a run: ``GET /threads/{thread_id}/runs/{run_id}/webhooks``.

lg-deploy extension (the official API has no delivery log). Source of the webhook itself:
Agent Server API, "Other run fields" → ``webhook``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors
from shared.api.webhooks import WebhookDelivery
from shared.services import webhooks as service

router = APIRouter(tags=["webhooks"], route_class=EdgeRoute)


@router.get(
    "/threads/{thread_id}/runs/{run_id}/webhooks",
    responses={200: {"model": list[WebhookDelivery]}, **errors(404)},
)
async def list_run_webhooks(
    thread_id: uuid.UUID, run_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep
) -> Response:
    """The run's webhook deliveries (state, next due time) with every attempt (status code,
    latency, error, outcome); ``[]`` for a run without a webhook. 404 for an unknown run."""
    return Json(await service.list_deliveries(rt, ctx, thread_id, run_id))
