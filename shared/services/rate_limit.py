"""Per-tenant request rate: a fixed window of ``tenant_rate_window_seconds`` counted in
PostgreSQL for every intake replica (:mod:`shared.db.request_windows`), spent from memory.

An intake takes a batch of the tenant's window at a time and spends it request by request
without PostgreSQL; it asks again when the batch is spent, twice as much each time, and
PostgreSQL gives at most an eighth of what is left, so a batch is small near the limit and
the limit holds exactly across replicas. A window found used up answers 429 from memory until
it ends. Headers are those of the IETF draft "RateLimit header fields for HTTP"
(draft-ietf-httpapi-ratelimit-headers-11): ``RateLimit-Policy: "tenant";q=<limit>;w=<window>``
and ``RateLimit: "tenant";r=<left>;t=<seconds to the window's end>``, plus ``Retry-After`` on
a 429.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

import asyncpg

from shared.db import request_windows
from shared.db.pool import DB_ERRORS

log = logging.getLogger(__name__)

POLICY = "tenant"
"""The policy's name in the ``RateLimit`` fields (one policy: requests per tenant)."""


@dataclass
class _Window:
    """This process's share of one tenant's current window."""

    limit: int
    ends: float = 0.0
    """``time.monotonic()`` at which the window ends."""
    tokens: int = 0
    """Requests granted to this process and not spent yet."""
    used: int = 0
    """The tenant's requests granted (all replicas) when this process last asked."""
    wanted: int = 1
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class Admission:
    """Whether a request may go on, and the ``RateLimit`` headers of its answer."""

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Admit or refuse requests per tenant (one per process, shared by its requests)."""

    def __init__(self, pool: asyncpg.Pool, window_seconds: int) -> None:
        self._pool, self._window_seconds = pool, window_seconds
        self._windows: dict[str, _Window] = {}

    async def admit(self, tenant_id: str, limit: int) -> Admission:
        """Spend one of ``tenant_id``'s ``limit`` requests of the current window. If
        PostgreSQL cannot be reached the request goes on (logged), without headers."""
        window = self._windows.get(tenant_id)
        if window is None or window.limit != limit:  # new tenant, or its limit changed
            window = self._windows[tenant_id] = _Window(limit)
        if not self._spend(window):
            async with window.lock:  # one refill per tenant at a time; the others wait for it
                if not self._spend(window) and not await self._refill(tenant_id, window):
                    return Admission(True, {})
                if window.tokens < 0:
                    return Admission(False, self._headers(window, refused=True))
        return Admission(True, self._headers(window, refused=False))

    def _spend(self, window: _Window) -> bool:
        """Take one token if the window is current and has one."""
        if window.tokens > 0 and time.monotonic() < window.ends:
            window.tokens -= 1
            return True
        return False

    async def _refill(self, tenant_id: str, window: _Window) -> bool:
        """Ask PostgreSQL for a batch and spend one of it (``tokens`` ends at -1 when the
        window is used up: refused until it ends). ``False``: PostgreSQL unreachable."""
        now = time.monotonic()
        if window.tokens < 0 and now < window.ends:
            return True  # used up: known without asking
        wanted = window.wanted * 2 if now < window.ends else 1
        try:
            row = await request_windows.take(
                self._pool, tenant_id, self._window_seconds, wanted, window.limit
            )
        except DB_ERRORS as exc:
            log.warning("rate limit of tenant %s not checked: %s", tenant_id, exc)
            return False
        window.ends = now + row["seconds_left"]
        window.used = row["used"]
        window.wanted = max(1, row["granted"])
        window.tokens = row["granted"] - 1
        return True

    def _headers(self, window: _Window, *, refused: bool) -> dict[str, str]:
        reset = max(1, math.ceil(window.ends - time.monotonic()))
        left = 0 if refused else max(0, window.limit - window.used + window.tokens)
        headers = {
            "RateLimit-Policy": f'"{POLICY}";q={window.limit};w={self._window_seconds}',
            "RateLimit": f'"{POLICY}";r={left};t={reset}',
        }
        if refused:
            headers["Retry-After"] = str(reset)
        return headers
