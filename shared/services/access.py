"""Authorization of one operation: the caller's :class:`~shared.db.scope.Scope` for it.

Every service operation on a tenant-owned resource starts here: the deployment's
:class:`~shared.auth.access.Access` may deny it (403), change its input in place (``value``,
shaped as the official ``langgraph_sdk.auth.types`` input of that action) or narrow it by a
metadata filter; the scope (tenant + filter) then goes to the data layer.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from shared.auth.access import Action, Resource
from shared.auth.context import RequestContext, role_at_least
from shared.db import threads as threads_db
from shared.db.scope import Scope
from shared.errors import Forbidden, NotFound
from shared.runtime.context import Runtime


async def scope_of(
    rt: Runtime, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
) -> Scope:
    """The scope of ``ctx`` doing ``action`` on ``resource`` with ``value`` (which the
    authorizer may change). Raises :class:`~shared.errors.Forbidden`."""
    return Scope(ctx.tenant_id, await rt.access.authorize(ctx, resource, action, value))


async def visible_thread(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, action: Action = "read"
) -> asyncpg.Record:
    """The thread ``thread_id`` if ``ctx`` may do ``action`` on it (``threads.<action>``
    with ``{"thread_id"}``): the gate of every operation reached through a thread (its runs,
    their events, attempts and webhook deliveries, its stream). Raises NotFound (absent,
    another tenant's or filtered out: 404, as officially) and Forbidden."""
    scope = await scope_of(rt, ctx, "threads", action, {"thread_id": thread_id})
    return await thread_in(rt, thread_id, scope)


async def thread_in(rt: Runtime, thread_id: uuid.UUID, scope: Scope | None) -> asyncpg.Record:
    """The thread ``thread_id`` within ``scope`` (``None``: the system's own reads). Raises
    NotFound."""
    row = await threads_db.get(rt.db.pool, thread_id, scope)
    if row is None:
        raise NotFound(f"Thread '{thread_id}' not found")
    return row


def creator(run: asyncpg.Record) -> str:
    """The identity that created ``run`` (from its stored request context; ``""`` for runs
    stored before request contexts, or created by an anonymous caller)."""
    stored = run["request_context"] or {}
    return str((stored.get("user") or {}).get("identity", ""))


def check_may_cancel(ctx: RequestContext, runs: list[asyncpg.Record]) -> None:
    """A ``developer`` cancels the runs it created; an ``operator`` (or ``admin``) any run of
    its tenant. Raises Forbidden."""
    if role_at_least(ctx.caller.role, "operator"):
        return
    if any(creator(run) != ctx.caller.identity for run in runs):
        raise Forbidden("Only an operator may cancel runs created by someone else")
