"""The audit log: recording off the request path, and reading it back for admins.

:class:`AuditRecorder` takes events from intake's edge (``functions/intake/audit.py``) without
waiting: each is written as one structured log line (logger ``lg_deploy.audit``; JSON fields
with ``LG_DEPLOY_LOG_JSON``) and buffered; a background task appends the buffer to
``audit_log`` every :data:`FLUSH_SECONDS` in one ``COPY``. Refused requests (401/403) are
counted instead, one row per minute, tenant, identity, client and status, written (and logged)
once their minute is over. ``stop`` writes everything left, unfinished minutes included.

Rows are never dropped silently: when PostgreSQL refuses a batch it is kept and retried; past
:data:`MAX_BUFFERED` rows the oldest are dropped with an error log naming how many (their log
lines were already written), and rows a final write at ``stop`` could not store are counted in
an error log the same way.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg

from shared.api.audit import FORBIDDEN, UNAUTHORIZED, AuditEvent, AuditQuery
from shared.auth.context import DEFAULT_TENANT, RequestContext, role_at_least
from shared.db import audit as audit_db
from shared.db.pool import DB_ERRORS
from shared.errors import Forbidden
from shared.runtime.context import Runtime
from shared.services.pages import Page

log = logging.getLogger(__name__)
audit_log = logging.getLogger("lg_deploy.audit")

FLUSH_SECONDS = 1.0
"""Longest an event waits in memory before it is written (a full batch goes at once)."""
MAX_BATCH = 1000
"""Events that wake the writer before :data:`FLUSH_SECONDS`."""
MAX_BUFFERED = 100_000
"""Events kept while PostgreSQL refuses them; beyond, the oldest are dropped (logged)."""

_CountKey = tuple[datetime, str | None, str | None, str | None, int]
"""A count's minute, tenant, identity, client and status."""


def log_event(event: AuditEvent) -> None:
    """One line on ``lg_deploy.audit``: the event's fields (JSON logging puts each at the top
    level of the line) and a plain-text summary."""
    fields = event.model_dump(mode="json")
    summary = " ".join(f"{k}={'-' if v is None else v}" for k, v in fields.items() if k != "action")
    audit_log.info("audit %s %s", event.action, summary, extra={"fields": fields})


class AuditRecorder:
    """Buffers audit events of one process and appends them to ``audit_log`` in the
    background; :meth:`start` before the first request, :meth:`stop` after the last."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._buffer: list[AuditEvent] = []
        self._counts: dict[_CountKey, AuditEvent] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def record(self, event: AuditEvent) -> None:
        """Log ``event`` now and write it within :data:`FLUSH_SECONDS` (never blocks)."""
        log_event(event)
        self._buffer.append(event)
        if len(self._buffer) >= MAX_BATCH:
            self._wake.set()

    def refused(self, event: AuditEvent) -> None:
        """Count a 401/403 answer into its minute's row (``auth.unauthorized`` /
        ``auth.forbidden``, no method, path, resource or request id), written once the minute
        is over."""
        minute = event.occurred_at.replace(second=0, microsecond=0)
        key = (minute, event.tenant_id, event.identity, event.client, event.status)
        counted = self._counts.get(key)
        if counted is not None:
            counted.count += 1
            return
        self._counts[key] = event.model_copy(
            update={
                "occurred_at": minute,
                "action": UNAUTHORIZED if event.status == 401 else FORBIDDEN,
                "resource_type": None,
                "resource_id": None,
                "method": None,
                "path": None,
                "request_id": None,
                "count": 1,
            }
        )

    def start(self) -> None:
        """Start the background writer."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Write every buffered event and count (unfinished minutes too), then end."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            stopping = self._stopping
            await self._flush(every_count=stopping)
            if stopping:
                if self._buffer:
                    log.error("audit: %d rows not stored (see their log lines)", len(self._buffer))
                return

    def _take_counts(self, every_count: bool) -> list[AuditEvent]:
        """The counts whose minute is over (all with ``every_count``), logged and removed."""
        now = datetime.now(UTC)
        done = [k for k in self._counts if every_count or (now - k[0]).total_seconds() >= 60]
        counts = [self._counts.pop(k) for k in done]
        for event in counts:
            log_event(event)
        return counts

    async def _flush(self, every_count: bool) -> None:
        batch = self._buffer + self._take_counts(every_count)
        self._buffer = []
        if not batch:
            return
        try:
            await audit_db.insert(self._pool, batch)
        except DB_ERRORS as exc:
            log.warning("audit: cannot write %d rows yet: %r", len(batch), exc)
            self._buffer = batch + self._buffer
            excess = len(self._buffer) - MAX_BUFFERED
            if excess > 0:
                del self._buffer[:excess]
                log.error("audit: %d rows dropped, database unreachable (in the log only)", excess)


async def list_audit(rt: Runtime, ctx: RequestContext, query: AuditQuery) -> Page:
    """``GET /admin/audit``: the caller's tenant's rows matching ``query``, newest first.
    Admins of the default tenant (an open deployment's anonymous caller included) also see
    the rows no tenant owns (401 counts: credentials that named no tenant). Raises
    :class:`~shared.errors.Forbidden` for a caller below the ``admin`` role."""
    if not role_at_least(ctx.caller.role, "admin"):
        raise Forbidden("the audit log is for admins of the tenant")
    tenants = [ctx.tenant_id, None] if ctx.tenant_id == DEFAULT_TENANT else [ctx.tenant_id]
    entries, total = await audit_db.search(
        rt.db.pool,
        tenants,
        action=query.action,
        since=query.since,
        until=query.until,
        limit=query.limit,
        offset=query.offset,
    )
    items = [entry.model_dump(mode="json") for entry in entries]
    return Page.of(items, total, query.offset, None)
