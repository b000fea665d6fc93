"""Per-tenant open streams: each stream of a tenant with a ``max_streams`` limit holds a
lease on one of the tenant's slots in PostgreSQL (:mod:`shared.db.stream_leases`) for as long
as it is open, so the limit holds across intake replicas. This process renews its leases
every third of ``stream_lease_seconds`` in one statement; a crashed replica's leases expire
and free their slots.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import asyncpg

from shared.db import stream_leases
from shared.db.pool import DB_ERRORS
from shared.errors import TooManyRequests

log = logging.getLogger(__name__)

ATTEMPTS = 5
"""Tries to take a slot when concurrent opens keep taking the free one first."""


class StreamSlots:
    """The leases of this process's open streams (one per process)."""

    def __init__(self, pool: asyncpg.Pool, lease_seconds: float) -> None:
        self._pool, self._lease_seconds = pool, lease_seconds
        self._held: set[uuid.UUID] = set()
        self._renewer: asyncio.Task[None] | None = None

    async def open(self, tenant_id: str, limit: int) -> uuid.UUID | None:
        """Take one of ``tenant_id``'s ``limit`` stream slots for a stream now opening; its
        lease id, for :meth:`close`. Raises TooManyRequests (429) when all are held. If
        PostgreSQL cannot be reached the stream opens without a slot: ``None`` (logged)."""
        lease_id = await self._take(tenant_id, limit)
        if lease_id is not None:
            self._held.add(lease_id)
            if self._renewer is None:
                self._renewer = asyncio.create_task(self._renew())
        return lease_id

    async def close(self, lease_id: uuid.UUID | None) -> None:
        """Free the slot of a stream that ended (nothing for ``None``)."""
        if lease_id is None:
            return
        self._held.discard(lease_id)
        try:
            await stream_leases.release(self._pool, lease_id)
        except DB_ERRORS as exc:  # the lease expires by itself
            log.warning("stream lease %s not released: %s", lease_id, exc)

    async def _take(self, tenant_id: str, limit: int) -> uuid.UUID | None:
        lease_id = uuid.uuid4()
        try:
            for _ in range(ATTEMPTS):
                taken = await stream_leases.acquire(
                    self._pool, tenant_id, lease_id, limit, self._lease_seconds
                )
                if taken:
                    return lease_id
                if taken is False:
                    break
        except DB_ERRORS as exc:
            log.warning("stream limit of tenant %s not checked: %s", tenant_id, exc)
            return None
        raise TooManyRequests(
            f"Tenant '{tenant_id}' has {limit} streams open, its limit; close one or retry later"
        )

    async def _renew(self) -> None:
        """Renew every held lease each third of the lease; stop when none is held."""
        while self._held:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                await stream_leases.renew(self._pool, list(self._held), self._lease_seconds)
            except DB_ERRORS as exc:
                log.warning("stream leases not renewed: %s", exc)
        self._renewer = None
