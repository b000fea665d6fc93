"""The cron service (``/runs/crons*``, ``/threads/{thread_id}/runs/crons``) and the tick that
fires due crons.

A cron stores its run body as ``payload`` and its next due time as ``next_run_date`` (computed
with ``croniter`` in the cron's timezone). A tick claims the due crons with
``SELECT … FOR UPDATE SKIP LOCKED``, creates one run each and moves ``next_run_date`` to the
first scheduled time after the tick's ``now``, all in one transaction: a due time fires once,
whatever the number of replicas ticking, and a cron that missed several due times fires once.
Source: Agent Server API, "Crons".
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from opentelemetry.context import Context
from opentelemetry.trace import StatusCode
from pydantic import ValidationError

from shared.api.common import Json
from shared.api.crons import (
    PAYLOAD_FIELDS,
    CronCount,
    CronCreate,
    CronPatch,
    CronSearch,
    ThreadCronCreate,
    next_run_after,
)
from shared.api.runs import RunCreateStateful, RunCreateStateless
from shared.auth.context import RequestContext
from shared.db import crons as crons_db
from shared.errors import BadRequest, DomainError, NotFound
from shared.ids import new_id, parse_uuid, system_assistant_id
from shared.runtime.context import Runtime
from shared.services.access import scope_of, visible_thread
from shared.services.pages import Page, search_page
from shared.services.runs import CreatedRun, announce_run, create_run_in, resolve_assistant
from shared.services.webhooks import check_webhook
from shared.tracing import spans
from shared.tracing.propagation import current_trace, link_to

log = logging.getLogger(__name__)

TICK_BATCH = 100
"""Crons claimed per transaction of a tick; a tick repeats until fewer are due."""
TICK_KEY_KEEP_SECONDS = 86400.0
"""How long a handled tick's CloudEvent key is remembered (redeliveries come within minutes)."""
_COLUMN_FIELDS = frozenset({"schedule", "timezone", "end_time", "on_run_completed", "enabled"})


def _check_payload(rt: Runtime, payload: dict[str, Any]) -> None:
    """Refuse a run body that every firing would refuse. Raises BadRequest (both
    ``config.configurable`` and ``context``) and Invalid (a ``webhook`` the policy refuses)."""
    if (payload.get("config") or {}).get("configurable") and payload.get("context"):
        raise BadRequest("Cannot specify both configurable and context. Use context instead.")
    check_webhook(rt, payload.get("webhook"))


async def create_cron(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID | None, body: ThreadCronCreate
) -> Json:
    """``POST /runs/crons`` (``thread_id`` ``None``, body a :class:`CronCreate`) and
    ``POST /threads/{thread_id}/runs/crons``: store a cron; returns the Cron object.

    Raises NotFound (assistant or thread), Invalid (unknown graph id, refused ``webhook``) and
    BadRequest (both ``config.configurable`` and ``context``); nothing is written when it
    raises. Authorized as ``crons.create`` (the handler may change ``payload``), and a thread
    cron needs ``threads.read`` of its thread.
    """
    payload = body.model_dump(
        include=set(PAYLOAD_FIELDS), exclude_unset=True, exclude_none=True, mode="json"
    )
    cron_id = new_id()
    value: dict[str, Any] = {
        "payload": payload,
        "schedule": body.schedule,
        "cron_id": cron_id,
        "thread_id": thread_id,
        "user_id": None,
        "end_time": body.end_time,
    }
    await scope_of(rt, ctx, "crons", "create", value)
    payload = value["payload"]
    _check_payload(rt, payload)
    on_run_completed = body.on_run_completed if isinstance(body, CronCreate) else None
    next_run = next_run_after(body.schedule, body.timezone, datetime.now(UTC))
    if thread_id is not None:
        await visible_thread(rt, ctx, thread_id)
    async with rt.db.pool.acquire() as conn, conn.transaction():
        assistant = await resolve_assistant(rt, ctx, conn, body.assistant_id)
        payload["assistant_id"] = str(assistant["assistant_id"])
        row = await crons_db.insert(
            conn,
            cron_id=cron_id,
            tenant_id=ctx.tenant_id,
            request_context=ctx.to_json(),
            assistant_id=assistant["assistant_id"],
            thread_id=thread_id,
            schedule=body.schedule,
            timezone=body.timezone,
            end_time=body.end_time,
            payload=payload,
            metadata=body.metadata or {},
            on_run_completed=on_run_completed,
            enabled=body.enabled,
            next_run_date=next_run,
        )
    return crons_db.cron_to_api(row)


async def get_cron(rt: Runtime, ctx: RequestContext, cron_id: uuid.UUID) -> Json:
    """``GET /runs/crons/{cron_id}``. Raises NotFound."""
    scope = await scope_of(rt, ctx, "crons", "read", {"cron_id": cron_id})
    row = await crons_db.get(rt.db.pool, cron_id, scope)
    if row is None:
        raise NotFound(f"Cron '{cron_id}' not found")
    return crons_db.cron_to_api(row)


async def update_cron(
    rt: Runtime, ctx: RequestContext, cron_id: uuid.UUID, body: CronPatch
) -> Json:
    """``PATCH /runs/crons/{cron_id}``: given fields replace (run fields in ``payload``),
    ``metadata`` is merged into the cron's and its runs', ``end_time: null`` clears the end
    time. A new ``schedule`` or ``timezone``, or re-enabling, moves ``next_run_date`` to the
    next time from now. Returns the Cron object.

    Raises BadRequest (no field given, or both configurable and context), Invalid (refused
    ``webhook``) and NotFound.
    """
    run_fields = body.model_dump(
        include=body.model_fields_set & PAYLOAD_FIELDS, exclude_none=True, mode="json"
    )
    columns = {
        name: getattr(body, name)
        for name in body.model_fields_set & _COLUMN_FIELDS
        if getattr(body, name) is not None or name == "end_time"
    }
    if not run_fields and not columns:
        raise BadRequest("Provide at least one field to update.")
    value = {"cron_id": cron_id, "payload": run_fields or None, "schedule": body.schedule}
    scope = await scope_of(rt, ctx, "crons", "update", value)
    async with rt.db.pool.acquire() as conn, conn.transaction():
        row = await crons_db.get(conn, cron_id, scope, for_update=True)
        if row is None:
            raise NotFound(f"Cron '{cron_id}' not found")
        changes: dict[str, Any] = dict(columns)
        if run_fields:
            payload = {**row["payload"], **run_fields}
            if "metadata" in run_fields:
                added = run_fields["metadata"]
                payload["metadata"] = {**(row["payload"].get("metadata") or {}), **added}
                changes["metadata"] = {**row["metadata"], **added}
            _check_payload(rt, payload)
            changes["payload"] = payload
        next_run = row["next_run_date"]
        if {"schedule", "timezone"} & set(columns) or (
            columns.get("enabled") and not row["enabled"]
        ):
            next_run = next_run_after(
                columns.get("schedule", row["schedule"]),
                columns.get("timezone", row["timezone"]),
                datetime.now(UTC),
            )
        row = await crons_db.update(conn, cron_id, changes, next_run)
    return crons_db.cron_to_api(row)


async def delete_cron(rt: Runtime, ctx: RequestContext, cron_id: uuid.UUID) -> None:
    """``DELETE /runs/crons/{cron_id}`` (runs it created stay). Raises NotFound."""
    scope = await scope_of(rt, ctx, "crons", "delete", {"cron_id": cron_id})
    if not await crons_db.delete(rt.db.pool, cron_id, scope):
        raise NotFound(f"Cron '{cron_id}' not found")


async def _filter(
    rt: Runtime, ctx: RequestContext, body: CronCount, enabled: bool | None = None
) -> crons_db.Filter:
    """Filters of a search/count body within what ``ctx`` may search (``crons.search``);
    ``assistant_id`` is a UUID or a graph id (its system assistant)."""
    assistant_id = None
    if body.assistant_id is not None:
        assistant_id = parse_uuid(body.assistant_id) or system_assistant_id(body.assistant_id)
    value: dict[str, Any] = {
        "assistant_id": assistant_id,
        "thread_id": body.thread_id,
        "metadata": body.metadata or {},
    }
    if isinstance(body, CronSearch):
        value |= {"limit": body.limit, "offset": body.offset}
    scope = await scope_of(rt, ctx, "crons", "search", value)
    return crons_db.Filter(scope, assistant_id, body.thread_id, body.metadata, enabled)


async def search_crons(rt: Runtime, ctx: RequestContext, body: CronSearch) -> Page:
    """``POST /runs/crons/search``: a page of matching crons (only the ``select`` fields when
    given), the number of all matches and the next page's offset."""
    return await search_page(
        rt.db.pool,
        crons_db.search,
        crons_db.count,
        await _filter(rt, ctx, body, body.enabled),
        body,
        crons_db.cron_to_api,
    )


async def count_crons(rt: Runtime, ctx: RequestContext, body: CronCount) -> int:
    """``POST /runs/crons/count``: how many crons match the filters."""
    return await crons_db.count(rt.db.pool, await _filter(rt, ctx, body))


@dataclass
class Tick:
    """What one tick did: its ``now``, whether it was a redelivery (then it did nothing), and
    ``(cron_id, run_id)`` of every cron it fired (``run_id`` ``None`` when the run was refused,
    e.g. ``multitask_strategy=reject`` on a busy thread; the cron still moved on)."""

    now: datetime
    duplicate: bool = False
    fired: list[tuple[uuid.UUID, uuid.UUID | None]] = field(default_factory=list)


def _run_body(cron: asyncpg.Record) -> RunCreateStateless:
    """The run a firing of ``cron`` creates: its payload, with ``cron_id`` in the metadata;
    stateless crons' threads follow ``on_run_completed``."""
    payload = dict(cron["payload"])
    payload["metadata"] = {**(payload.get("metadata") or {}), "cron_id": str(cron["cron_id"])}
    if cron["thread_id"] is None:
        payload["on_completion"] = cron["on_run_completed"] or "delete"
        return RunCreateStateless.model_validate(payload)
    return RunCreateStateful.model_validate(payload)


async def _fire(rt: Runtime, conn: asyncpg.Connection, cron: asyncpg.Record) -> CreatedRun | None:
    """Create the run of one firing in a savepoint, in the name of the request context that
    created the cron; ``None`` (logged) when it is refused. The firing is an ``lgd.cron.fire``
    span starting a new trace, linked to the cron's creation (its stored ``traceparent``); the
    run continues that trace (while tracing is off, the run keeps the cron's own)."""
    ctx = RequestContext.from_json(cron["request_context"])
    attributes = {
        spans.CRON_ID: str(cron["cron_id"]),
        spans.TENANT: ctx.tenant_id,
        spans.ASSISTANT_ID: str(cron["assistant_id"]),
    }
    if cron["thread_id"] is not None:
        attributes[spans.THREAD_ID] = str(cron["thread_id"])
    with spans.tracer().start_as_current_span(
        spans.CRON_FIRE,
        Context(),
        links=link_to(ctx.traceparent, ctx.tracestate),
        attributes=attributes,
    ) as span:
        try:
            async with conn.transaction():
                run = await create_run_in(
                    rt, ctx.in_trace(current_trace()), conn, cron["thread_id"], _run_body(cron)
                )
        except (DomainError, ValidationError) as exc:
            log.warning("cron %s: no run this time: %s", cron["cron_id"], exc)
            span.set_status(StatusCode.ERROR, str(exc))
            return None
        span.set_attribute(spans.RUN_ID, str(run.row["run_id"]))
        return run


async def tick(rt: Runtime, now: datetime, event_key: str | None = None) -> Tick:
    """Fire every cron due at ``now``: create its run and advance its ``next_run_date`` in
    one transaction (per batch of :data:`TICK_BATCH`), then wake executors.

    ``event_key`` (the CloudEvent's source and id) makes a redelivered tick a no-op. Crons
    locked by a concurrent tick are skipped: that tick fires them. Raises asyncpg errors
    (nothing of the failed batch is kept; the next tick retries).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    result = Tick(now)
    while True:
        created: list[CreatedRun] = []
        async with rt.db.pool.acquire() as conn, conn.transaction():
            if event_key is not None:  # in the first batch's transaction
                if not await crons_db.record_tick(conn, event_key):
                    result.duplicate = True
                    return result
                event_key = None
            due = await crons_db.claim_due(conn, now, TICK_BATCH)
            # one lock order for thread rows across concurrent ticks: no deadlocks between them
            for cron in sorted(due, key=lambda c: str(c["thread_id"] or "")):
                run = await _fire(rt, conn, cron)
                next_run = next_run_after(cron["schedule"], cron["timezone"], now)
                await crons_db.set_next_run(conn, cron["cron_id"], next_run)
                if run is not None:
                    created.append(run)
                result.fired.append((cron["cron_id"], run.row["run_id"] if run else None))
        for run in created:
            await announce_run(rt, run)
        if len(due) < TICK_BATCH:
            break
    await crons_db.forget_ticks(rt.db.pool, TICK_KEY_KEEP_SECONDS)
    return result
