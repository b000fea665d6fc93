"""The admin API (``/admin/tenants``, ``/admin/keys``): tenants and built-in API keys.

Who may do what (every operation needs the ``admin`` role, else 403):
- an admin of the ``default`` tenant is the deployment's administrator: it lists and creates
  tenants and manages the keys of every tenant (an open deployment's anonymous caller is one,
  so the first key can be made over the API);
- an admin of any other tenant manages its own tenant's keys only: it sees its own tenant,
  creating a tenant or naming another tenant is 403, and another tenant's key is 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.api.admin import ApiKeyCreate, TenantCreate
from shared.auth import key_admin
from shared.auth.context import DEFAULT_TENANT, RequestContext
from shared.db import api_keys as keys_db
from shared.db import tenants as tenants_db
from shared.errors import Forbidden, NotFound
from shared.runtime.context import Runtime


def _admin(ctx: RequestContext) -> bool:
    """Whether ``ctx`` administers the whole deployment (not only its tenant). Raises
    Forbidden unless its role is ``admin``."""
    if ctx.caller.role != "admin":
        raise Forbidden("Managing tenants and API keys needs the admin role")
    return ctx.tenant_id == DEFAULT_TENANT


def _tenant(ctx: RequestContext, tenant_id: str | None) -> str | None:
    """The tenant an operation of ``ctx`` may touch when it names ``tenant_id``: that one,
    or ``None`` (all) for the deployment's administrator; the caller's own tenant otherwise.
    Raises Forbidden when a tenant admin names another tenant."""
    if _admin(ctx):
        return tenant_id
    if tenant_id not in (None, ctx.tenant_id):
        raise Forbidden(f"A tenant admin of '{ctx.tenant_id}' manages only its own tenant")
    return ctx.tenant_id


async def list_tenants(rt: Runtime, ctx: RequestContext) -> list[dict[str, Any]]:
    """``GET /admin/tenants``: every tenant, or the caller's own for a tenant admin."""
    rows = await tenants_db.list_tenants(rt.db.pool, _tenant(ctx, None))
    return [dict(r) for r in rows]


async def create_tenant(rt: Runtime, ctx: RequestContext, body: TenantCreate) -> dict[str, Any]:
    """``POST /admin/tenants``. Raises Forbidden (not the deployment's administrator),
    Conflict (exists)."""
    if not _admin(ctx):
        raise Forbidden("Creating tenants needs an admin of the 'default' tenant")
    return dict(await key_admin.create_tenant(rt.db.pool, body.tenant_id, body.name))


async def list_keys(
    rt: Runtime, ctx: RequestContext, tenant_id: str | None
) -> list[dict[str, Any]]:
    """``GET /admin/keys[?tenant_id=]``: keys (never their secrets), revoked ones included."""
    rows = await keys_db.list_keys(rt.db.pool, _tenant(ctx, tenant_id))
    return [dict(r) for r in rows]


async def create_key(rt: Runtime, ctx: RequestContext, body: ApiKeyCreate) -> dict[str, Any]:
    """``POST /admin/keys``: a key of ``body.tenant_id`` (default: the caller's), with its
    secret, shown this once. Raises Forbidden, NotFound (tenant), Conflict (name taken)."""
    tenant_id = _tenant(ctx, body.tenant_id) or ctx.tenant_id
    row, key = await key_admin.create_key(rt.db.pool, tenant_id, body.role, body.name)
    return {**dict(row), "key": key}


async def revoke_key(rt: Runtime, ctx: RequestContext, key_id: uuid.UUID) -> dict[str, Any]:
    """``DELETE /admin/keys/{key_id}``: revoke it (again: unchanged); the key. Raises
    NotFound for a key not in the caller's reach."""
    row = await keys_db.revoke(rt.db.pool, key_id, _tenant(ctx, None))
    if row is None:
        raise NotFound(f"API key '{key_id}' not found")
    return dict(row)
