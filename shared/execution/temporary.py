"""Stateless runs' temporary threads go when their run ends, as on the official server.

A stateless run (``POST /runs…`` without ``on_completion: "keep"``) runs on a thread of its
own marked ``temporary``. Whoever sees the run's end last removes that thread, its runs, their
events and its checkpoints:

- the executor, at the end of a run nobody waits on (``POST /runs``, batches, crons,
  CloudEvents);
- the reader, once it has answered, for a run a request reads to its end: created by a waiting
  request (stateless ``/runs/wait`` and ``/runs/stream``, MCP ``tools/call``), or joined while
  active (``/join``, ``…/stream``, ``cancel?wait=true``). Its ``runs.awaited`` makes the
  executor leave the thread to that reader, since the answer is read from the thread's run
  after the end;
- the executor's sweep, as the safety net: a thread left by an executor that died (its run
  then ended by the lease sweep) goes at the next sweep, one left by a reader that went away
  ``temporary_thread_grace_seconds`` after its run's end.

Neither the executor nor the reader's client waits for the deletes: each process hands them
to one background task, which deletes what has gathered meanwhile in one batch (one statement
for the threads and their checkpoints), so a busy process pays per batch, not per run. A
batch lost at shutdown or to a database error is left to the sweep.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.db.pool import DB_ERRORS
from shared.runtime.context import Runtime

log = logging.getLogger(__name__)


class _Discards:
    """The temporary threads a process is to delete, and the task deleting them."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.read: set[uuid.UUID] = set()
        self.ended: set[uuid.UUID] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, thread_id: uuid.UUID, *, read: bool) -> None:
        (self.read if read else self.ended).add(thread_id)
        if self.task is None:
            self.task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self.read or self.ended:
                read, ended = list(self.read), list(self.ended)
                self.read.clear()
                self.ended.clear()
                try:
                    await threads_db.delete_temporary(self.rt.db.pool, read, ended)
                except DB_ERRORS as exc:  # database down or refusing: left to the sweep
                    log.warning(
                        "%d temporary threads left to the sweep: %s", len(read + ended), exc
                    )
        finally:
            self.task = None


_discards: dict[int, _Discards] = {}
"""One :class:`_Discards` per runtime (a process has one)."""


def discard_temporary_thread(rt: Runtime, thread_id: uuid.UUID, *, read: bool) -> None:
    """Delete ``thread_id`` with its runs, events and checkpoints, in the background, if it
    is a temporary thread whose runs all ended: ``read`` (a reader that has answered) or not
    (the executor at the run's end: then only if no request reads one of its runs). Nothing
    happens to a kept or busy thread."""
    discards = _discards.get(id(rt))
    if discards is None or discards.rt is not rt:
        discards = _discards[id(rt)] = _Discards(rt)
    discards.add(thread_id, read=read)


async def read_to_end(
    rt: Runtime, run: dict[str, Any], *, created_awaited: bool = False
) -> uuid.UUID | None:
    """A request is about to read ``run`` (an API Run) to its end: if it is an active
    stateless run on a temporary thread, that request now removes the thread once it has
    answered (:func:`discard_temporary_thread` with ``read``); the thread id then, else
    ``None``. ``created_awaited``: the request created the run so (``create_run(awaited=True)``).
    No database round trip for other runs, nor for those."""
    if not run["kwargs"].get("temporary"):
        return None
    if created_awaited or await runs_db.mark_awaited(rt.db.pool, run["run_id"]):
        return uuid.UUID(str(run["thread_id"]))
    return None


async def sweep_temporary_threads(rt: Runtime) -> int:
    """The safety net: delete the temporary threads left behind (see the module doc); how
    many."""
    ended = await threads_db.delete_ended_temporary(
        rt.db.pool, rt.settings.temporary_thread_grace_seconds
    )
    return len(ended)
