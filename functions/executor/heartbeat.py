"""Lease renewal on its own thread and connection, so graph code cannot starve it.

A node that blocks the event loop (CPU work, ``time.sleep`` in an async node) does not stop
this thread: leases stay renewed and no other executor takes the run over.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import psycopg

from shared.db.runs import HEARTBEAT_SQL

log = logging.getLogger(__name__)

Report = Callable[[float, list[tuple[object, object, object]]], None]


class Heartbeat(threading.Thread):
    """Every ``lease_seconds / 3``: renew this executor's leases and report what the
    database says (``run_id, claim_token, cancel_action`` per held run) to ``on_report`` on
    ``loop``, with the monotonic time the renewal started."""

    def __init__(
        self,
        dsn: str,
        executor_id: str,
        lease_seconds: float,
        loop: asyncio.AbstractEventLoop,
        on_report: Report,
    ) -> None:
        super().__init__(name=f"heartbeat-{executor_id}", daemon=True)
        self._dsn, self._executor_id, self._lease = dsn, executor_id, lease_seconds
        self._loop, self._on_report = loop, on_report
        self._stop_event = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop_event.wait(self._lease / 3):
            started = time.monotonic()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
                rows = conn.execute(HEARTBEAT_SQL, (self._lease, self._executor_id)).fetchall()
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
