"""Lease renewal on its own thread and connection, so graph code cannot starve it.

A node that blocks the event loop (CPU work, ``time.sleep`` in an async node) does not stop
this thread: leases stay renewed and no other executor takes the run over.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection

import psycopg

from shared.db.runs import HEARTBEAT_SQL

log = logging.getLogger(__name__)

Report = Callable[[float, list[tuple[object, object, object]]], None]


class Heartbeat(threading.Thread):
    """Every ``lease_seconds / 3``: renew the leases of the runs ``held()`` names and report
    what the database says (``run_id, claim_token, cancel_action`` per run still held) to
    ``on_report`` on ``loop``, with the monotonic time the renewal started.

    ``held`` is called on this thread; it must return a snapshot (an immutable collection).
    """

    def __init__(
        self,
        dsn: str,
        executor_id: str,
        lease_seconds: float,
        loop: asyncio.AbstractEventLoop,
        held: Callable[[], Collection[uuid.UUID]],
        on_report: Report,
    ) -> None:
        super().__init__(name=f"heartbeat-{executor_id}", daemon=True)
        self._dsn, self._executor_id, self._lease = dsn, executor_id, lease_seconds
        self._loop, self._held, self._on_report = loop, held, on_report
        self._stop_event = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop_event.wait(self._lease / 3):
            started = time.monotonic()
            held = list(self._held())
            if not held:
                continue
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
                params = (self._lease, self._executor_id, held)
                rows = conn.execute(HEARTBEAT_SQL, params).fetchall()
            except psycopg.Error as exc:
                log.warning("heartbeat failed: %s", exc)
                conn = None
                continue
            try:
                self._loop.call_soon_threadsafe(self._on_report, started, rows)
            except RuntimeError:  # loop closed: the process is stopping
                return
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        """Stop after the current beat."""
        self._stop_event.set()
