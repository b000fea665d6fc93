"""Tenant limits: ``GET`` / ``PUT /tenants/{tenant_id}/limits`` (lg-deploy extension; the
official server has no per-tenant limits). The operator role of the tenant reads and sets
them; see :mod:`shared.services.limits`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors
from shared.api.limits import LimitValues, TenantLimits
from shared.services import limits as service

router = APIRouter(tags=["limits"], route_class=EdgeRoute)
TenantId = Annotated[str, Path(min_length=1, max_length=255)]
DOC = {200: {"model": TenantLimits}, **errors(403, 404)}


def _cache(request: Request) -> service.LimitsCache:
    cache: service.LimitsCache = request.app.state.limits
    return cache


@router.get("/tenants/{tenant_id}/limits", responses=DOC)
async def get_limits(tenant_id: TenantId, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """The tenant's limits: ``effective`` (null: no limit), ``overrides`` (null: the
    deployment's default) and ``usage`` now. 403 below the operator role; 404 for another
    tenant."""
    return Json(await service.read_limits(rt, ctx, tenant_id))


@router.put("/tenants/{tenant_id}/limits", responses=DOC)
async def put_limits(
    tenant_id: TenantId, body: LimitValues, rt: RuntimeDep, ctx: CtxDep, request: Request
) -> Response:
    """Replace the tenant's overrides (a field null or left out: the default applies);
    answers as ``GET``. Applies at once on this intake, within ``LG_DEPLOY_LIMITS_CACHE_SECONDS``
    on other intakes, at the next claim and run creation everywhere. 403 below the operator
    role; 404 for another tenant; 422 for an unknown field or a negative limit."""
    return Json(await service.set_limits(rt, ctx, tenant_id, body, _cache(request)))
