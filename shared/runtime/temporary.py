"""Stateless runs' temporary threads go when their run ends, as on the official server.

A stateless run (``POST /runs…`` without ``on_completion: "keep"``) runs on a thread of its
own marked ``temporary``. Whoever sees the run's end last removes that thread, its runs, their
events and its checkpoints:

- the executor, at the end of a run nobody waits on (``POST /runs``, batches, crons,
  CloudEvents);
- the reader, once it has answered, for a run a request reads to its end: created by a waiting
  request (stateless ``/runs/wait`` and ``/runs/stream``, MCP ``tools/call``), or joined while
  active (``/join``, ``…/stream``, ``cancel?wait=true``). Its ``kwargs.awaited`` makes the
  executor leave the thread to that reader, since the answer is read from the thread's run
  after the end;
- the executor's sweep, as the safety net: a thread left by an executor that died (its run
  then ended by the lease sweep) goes at the next sweep, one left by a reader that went away
  ``temporary_thread_grace_seconds`` after its run's end.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.runtime.checkpointer import plain_saver
from shared.runtime.context import Runtime


async def discard_temporary_thread(
    rt: Runtime, thread_id: uuid.UUID, *, unless_awaited: bool = False
) -> None:
    """Delete ``thread_id`` with its runs, events and checkpoints if it is a temporary thread
    whose runs all ended (with ``unless_awaited``, the executor's call: and no request reads
    one); nothing otherwise (a kept or busy thread stays)."""
    if await threads_db.delete_temporary(rt.db.pool, thread_id, unless_awaited=unless_awaited):
        await plain_saver(rt.db.checkpoint_pool).aprune([str(thread_id)], strategy="delete")


async def read_to_end(rt: Runtime, run: dict[str, Any]) -> uuid.UUID | None:
    """A request is about to read ``run`` (an API Run) to its end: if it is an active
    stateless run on a temporary thread, that request now removes the thread once it has
    answered (:func:`discard_temporary_thread`); the thread id then, else ``None``. No
    database round trip for other runs."""
    if not run["kwargs"].get("temporary"):
        return None
    if run["kwargs"].get("awaited") or await runs_db.mark_awaited(rt.db.pool, run["run_id"]):
        return uuid.UUID(str(run["thread_id"]))
    return None


async def sweep_temporary_threads(rt: Runtime) -> int:
    """The safety net: delete the temporary threads left behind (see the module doc); how
    many."""
    ended = await threads_db.delete_ended_temporary(
        rt.db.pool, rt.settings.temporary_thread_grace_seconds
    )
    if ended:
        await plain_saver(rt.db.checkpoint_pool).aprune([str(t) for t in ended], strategy="delete")
    return len(ended)
