"""Admin endpoints: ``/admin/tenants`` and ``/admin/keys`` (lg-deploy extension).

Tenants and built-in API keys, as ``lg-deploy tenants|keys`` manage them; who may do what is
in :mod:`shared.services.admin` (the ``admin`` role; the ``default`` tenant's admins for
every tenant).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from functions.intake.deps import CtxDep, RuntimeDep
from functions.intake.edge import EdgeRoute
from functions.intake.responses import Json, errors
from shared.api.admin import ApiKey, ApiKeyCreate, ApiKeyCreated, Tenant, TenantCreate
from shared.services import admin as service

router = APIRouter(prefix="/admin", tags=["admin"], route_class=EdgeRoute)


@router.get("/tenants", responses={200: {"model": list[Tenant]}})
async def list_tenants(rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Every tenant (a tenant admin: its own)."""
    return Json(await service.list_tenants(rt, ctx))


@router.post("/tenants", responses={200: {"model": Tenant}, **errors(409)})
async def create_tenant(body: TenantCreate, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create a tenant (admins of the ``default`` tenant only); 409 if it exists."""
    return Json(await service.create_tenant(rt, ctx, body))


@router.get("/keys", responses={200: {"model": list[ApiKey]}})
async def list_keys(rt: RuntimeDep, ctx: CtxDep, tenant_id: str | None = None) -> Response:
    """API keys, revoked ones included, never their secrets: of ``tenant_id``, else of every
    tenant (a tenant admin: its own tenant's)."""
    return Json(await service.list_keys(rt, ctx, tenant_id))


@router.post("/keys", responses={200: {"model": ApiKeyCreated}, **errors(404, 409)})
async def create_key(body: ApiKeyCreate, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Create an API key; the answer carries its secret (``key``), shown this once. 404 for
    an unknown tenant, 409 when a live key of the tenant has that name."""
    return Json(await service.create_key(rt, ctx, body))


@router.delete("/keys/{key_id}", responses={200: {"model": ApiKey}, **errors(404)})
async def revoke_key(key_id: uuid.UUID, rt: RuntimeDep, ctx: CtxDep) -> Response:
    """Revoke an API key (it stops working within LG_DEPLOY_API_KEY_CACHE_SECONDS in every
    process); the key, with ``revoked_at``. Revoking it again changes nothing."""
    return Json(await service.revoke_key(rt, ctx, key_id))
