"""The event sink of one run attempt: numbered stream events appended to PostgreSQL.

``emit`` is synchronous and cheap (serialize, buffer); a flush task writes whatever has
accumulated in one fenced batch insert, then publishes ``run.events`` so readers wake. Under
load batches grow by themselves; when idle an event is stored within one round trip.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import asyncpg

from shared.bus.base import RUN_EVENTS, Bus
from shared.db import events as events_db
from shared.errors import LostClaim
from shared.serde import dumps_str

log = logging.getLogger(__name__)

MAX_BATCH = 2000


def metadata_event(run_id: uuid.UUID, attempt: int) -> str:
    """The data of the ``metadata`` event that opens each attempt's stream (JSON text)."""
    return dumps_str({"run_id": str(run_id), "attempt": attempt})


class EventSink:
    """Append-only event log of run ``run_id`` held under ``claim_token``.

    ``seq`` continues from ``start_seq`` (the last stored seq of earlier attempts), so ids stay
    unique and strictly increasing across attempts. Raises :class:`LostClaim` from
    :meth:`close` if a batch was refused because the claim moved on.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: Bus,
        run_id: uuid.UUID,
        claim_token: uuid.UUID,
        start_seq: int,
    ) -> None:
        self._pool, self._bus = pool, bus
        self.run_id, self._token = run_id, claim_token
        self.seq = start_seq
        self._seqs: list[int] = []
        self._events: list[str] = []
        self._datas: list[str] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._flush_loop())

    def emit(self, event: str, data: Any) -> None:
        """Queue one event; ``data`` is serialized now."""
        self.emit_json(event, dumps_str(data))

    def emit_json(self, event: str, data: str) -> None:
        """Queue one event whose data is JSON text already."""
        self.seq += 1
        self._seqs.append(self.seq)
        self._events.append(event)
        self._datas.append(data)
        self._wake.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._seqs:
                seqs, events, datas = (
                    self._seqs[:MAX_BATCH],
                    self._events[:MAX_BATCH],
                    self._datas[:MAX_BATCH],
                )
                del self._seqs[:MAX_BATCH], self._events[:MAX_BATCH], self._datas[:MAX_BATCH]
                stored = await self._append_with_retry(seqs, events, datas)
                if not stored:
                    raise LostClaim(f"run {self.run_id}: events refused, claim lost")
                await self._bus.publish(
                    RUN_EVENTS, {"run_id": str(self.run_id), "seq": seqs[-1], "done": False}
                )
            if self._closing:
                return

    async def _append_with_retry(
        self, seqs: list[int], events: list[str], datas: list[str]
    ) -> bool:
        delay = 0.1
        for attempt in range(8):
            try:
                return await events_db.append(
                    self._pool, self.run_id, self._token, seqs, events, datas
                )
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
                log.warning("storing events of run %s failed (%s), retrying", self.run_id, exc)
                if attempt == 7:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return False

    async def close(self) -> None:
        """Store every queued event; raises LostClaim (or a DB error) if that failed."""
        self._closing = True
        self._wake.set()
        # shielded: a cancel of the attempt meanwhile must not drop the queued events, so
        # that its cancel handling can close (and store them) again
        await asyncio.shield(self._task)

    def abort(self) -> None:
        """Stop flushing without storing what is queued (the claim is gone)."""
        self._task.cancel()
        if self._task.done() and not self._task.cancelled():
            self._task.exception()  # a refused batch: expected here, not to be logged
