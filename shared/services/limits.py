"""Per-tenant limits: the defaults (``LG_DEPLOY_TENANT_*``) with each tenant's overrides
(``tenant_limits``), read by the limits API, by intake's edge (through :class:`LimitsCache`)
and by the run-creation path (the queued-runs limit is part of the run insert:
:func:`shared.db.runs.insert_run`). Executors read them in their claim
(:func:`shared.db.runs.claim`).

Source: issue 9, "Limits and fairness"; the operator role sets limits
(:data:`shared.auth.context.Role`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg

from shared.api.limits import LimitValues
from shared.auth.context import RequestContext, role_at_least
from shared.bus.base import RUN_REQUESTED
from shared.config import Settings
from shared.db import limits as limits_db
from shared.db.pool import DB_ERRORS
from shared.errors import Forbidden, NotFound
from shared.runtime.context import Runtime

log = logging.getLogger(__name__)


def effective(settings: Settings, overrides: asyncpg.Record | None) -> LimitValues:
    """The limits that apply (``None``: no limit): each override, else its default from
    ``settings``."""
    defaults = {
        "max_running_runs": settings.tenant_max_running_runs,
        "max_queued_runs": settings.tenant_max_queued_runs,
        "requests_per_window": settings.tenant_requests_per_window,
        "max_streams": settings.tenant_max_streams,
    }
    if overrides is None:
        return LimitValues(**defaults)
    return LimitValues(
        **{k: v if overrides[k] is None else overrides[k] for k, v in defaults.items()}
    )


class LimitsCache:
    """Each tenant's effective limits for intake's edge, read from PostgreSQL at most once per
    ``limits_cache_seconds``: an expired entry keeps answering while one background read
    renews it, so a request waits for PostgreSQL only the first time its tenant is seen. A
    failed read leaves the defaults (logged): limits never make a request fail."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool, self._settings = pool, settings
        self._entries: dict[str, tuple[float, LimitValues]] = {}
        self._reads: dict[str, asyncio.Task[LimitValues]] = {}
        self._versions: dict[str, int] = {}

    async def get(self, tenant_id: str) -> LimitValues:
        """The tenant's limits (cached)."""
        entry = self._entries.get(tenant_id)
        if entry is None:
            return await self._read(tenant_id)
        if time.monotonic() >= entry[0]:
            self._read(tenant_id)
        return entry[1]

    def forget(self, tenant_id: str) -> None:
        """Drop the tenant's entry (its overrides changed): the next request reads them."""
        self._entries.pop(tenant_id, None)
        self._reads.pop(tenant_id, None)
        self._versions[tenant_id] = self._versions.get(tenant_id, 0) + 1

    def _read(self, tenant_id: str) -> asyncio.Task[LimitValues]:
        task = self._reads.get(tenant_id)
        if task is None:
            task = asyncio.create_task(self._load(tenant_id))
            self._reads[tenant_id] = task
            task.add_done_callback(lambda done: self._done(tenant_id, done))
        return task

    def _done(self, tenant_id: str, task: asyncio.Task[LimitValues]) -> None:
        if self._reads.get(tenant_id) is task:
            del self._reads[tenant_id]

    async def _load(self, tenant_id: str) -> LimitValues:
        version = self._versions.get(tenant_id, 0)
        try:
            row = await limits_db.get(self._pool, tenant_id)
        except DB_ERRORS as exc:
            log.warning("limits of tenant %s unreadable, defaults apply: %s", tenant_id, exc)
            row = None
        limits = effective(self._settings, row)
        if self._versions.get(tenant_id, 0) == version:
            expires = time.monotonic() + self._settings.limits_cache_seconds
            self._entries[tenant_id] = (expires, limits)
        return limits


def _check_access(ctx: RequestContext, tenant_id: str) -> None:
    """Limits are the operator's: of the caller's own tenant only (another tenant's limits
    are 404, as any foreign id). Raises Forbidden / NotFound."""
    if not role_at_least(ctx.caller.role, "operator"):
        raise Forbidden("tenant limits need the operator role")
    if tenant_id != ctx.tenant_id:
        raise NotFound(f"Tenant '{tenant_id}' not found")


async def read_limits(rt: Runtime, ctx: RequestContext, tenant_id: str) -> dict[str, Any]:
    """``GET /tenants/{tenant_id}/limits``: the :class:`~shared.api.limits.TenantLimits`
    object. Raises Forbidden / NotFound."""
    _check_access(ctx, tenant_id)
    row = await limits_db.get(rt.db.pool, tenant_id)
    return await _answer(rt, tenant_id, row)


async def set_limits(
    rt: Runtime, ctx: RequestContext, tenant_id: str, values: LimitValues, cache: LimitsCache
) -> dict[str, Any]:
    """``PUT /tenants/{tenant_id}/limits``: replace the tenant's overrides with ``values``
    (``null``: the default), at once on this intake (``cache``), within
    ``limits_cache_seconds`` on the others, at the next claim (executors are woken) and run
    creation.
    Returns what :func:`read_limits` returns. Raises Forbidden / NotFound."""
    _check_access(ctx, tenant_id)
    row = await limits_db.put(rt.db.pool, tenant_id, values.model_dump())
    cache.forget(tenant_id)
    await rt.bus.publish(RUN_REQUESTED, {})  # a higher running-runs limit lets runs start
    return await _answer(rt, tenant_id, row)


async def _answer(rt: Runtime, tenant_id: str, row: asyncpg.Record | None) -> dict[str, Any]:
    overrides = {c: row[c] if row else None for c in limits_db.LIMIT_COLUMNS}
    usage = await limits_db.usage(rt.db.pool, tenant_id)
    return {
        "tenant_id": tenant_id,
        "effective": effective(rt.settings, row).model_dump(),
        "overrides": overrides,
        "rate_window_seconds": rt.settings.tenant_rate_window_seconds,
        "updated_at": row["updated_at"] if row else None,
        "usage": dict(usage),
    }
