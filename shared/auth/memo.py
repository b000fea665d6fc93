"""A short-lived, bounded, single-flight memo of an async lookup: what the edge keeps in
process memory so that authenticating a request costs no database round trip."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlMemo(Generic[K, V]):
    """``await memo.get(key)`` returns ``fetch(key)``'s result, fetched at most once per
    ``ttl_seconds`` per key: concurrent callers of a key share one fetch, and a fetch that
    raises is not kept (the next call tries again). At most ``max_entries`` keys are kept
    (expired ones are dropped first, then all), so unknown keys cannot fill the memory."""

    def __init__(
        self,
        fetch: Callable[[K], Awaitable[V]],
        ttl_seconds: float,
        max_entries: int = 10_000,
    ) -> None:
        self._fetch, self._ttl, self._max = fetch, ttl_seconds, max_entries
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    async def get(self, key: K) -> V:
        """The value of ``key``, at most ``ttl_seconds`` old; raises what ``fetch`` raised."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if len(self._entries) >= self._max:
                self._prune(now)
            future = asyncio.ensure_future(self._fetch(key))
            entry = (now + self._ttl, future)
            self._entries[key] = entry
            future.add_done_callback(lambda done: self._forget_failed(key, entry, done))
        # shielded: a caller that goes away does not cancel the others' fetch
        return await asyncio.shield(entry[1])

    def _forget_failed(
        self, key: K, entry: tuple[float, asyncio.Future[V]], done: asyncio.Future[V]
    ) -> None:
        if (done.cancelled() or done.exception() is not None) and self._entries.get(key) is entry:
            del self._entries[key]

    def _prune(self, now: float) -> None:
        self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
        if len(self._entries) >= self._max:
            self._entries.clear()
