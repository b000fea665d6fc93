"""SIGINT and SIGTERM for the whole life of an ``lg-deploy`` process (``dev`` or one function).

The first signal asks the functions to stop (the launcher's :meth:`StopSignals.requested`) and
arms a watchdog: a process still alive :data:`STOP_SECONDS` later exits with status 1, whatever
holds it (a stop that hangs). Once the functions are stopped (:meth:`StopSignals.stopped`), what
is left is the interpreter's teardown, which waits for every worker thread: a graph node stuck
in one (a blocking call without a timeout) would hold the process forever, so after
:data:`TEARDOWN_SECONDS` it exits with status 0 without them (their runs were handed back). A
second signal exits at once with status ``128 + signal``. Forced exits first run the registered
clean-ups (stopping the embedded PostgreSQL, removing an ``--ephemeral`` folder). The handlers
are the process's (``signal.signal``), not the event loop's, so they also act while the loop
is shutting down or already closed. Source of the need: issue 8, item 8 (``lg-deploy dev``
stayed up after SIGTERM, twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("lg-deploy")

STOP_SECONDS = 20.0
"""Longest stop after the first signal: open requests get 5 s (uvicorn's graceful shutdown),
then every function stops and the runtime closes."""
TEARDOWN_SECONDS = 2.0
"""Longest wait for worker threads once the functions are stopped."""
CLEANUP_SECONDS = 5.0
"""Longest time the clean-ups of a forced exit may take before the process exits anyway."""


class StopSignals:
    """Process-wide SIGINT/SIGTERM handling (see the module doc); :meth:`install` it once."""

    def __init__(self, stop_seconds: float = STOP_SECONDS) -> None:
        self.stop_seconds = stop_seconds
        self.received: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._requested: asyncio.Event | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def install(self) -> None:
        """Handle SIGINT and SIGTERM from now on (call from the main thread)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def on_forced_exit(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` (blocking, quick) before a forced exit."""
        self._cleanups.append(cleanup)

    def stopped(self) -> None:
        """The functions are stopped and the runtime closed: only the teardown is left."""
        self._stopped.set()

    async def requested(self) -> None:
        """Return once a stop was asked for (at once if a signal came before)."""
        self._loop = asyncio.get_running_loop()
        self._requested = asyncio.Event()
        if self.received is not None:
            self._requested.set()
        await self._requested.wait()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes: only hand work to other threads.
        with self._lock:
            first = self.received is None
            if first:
                self.received = signum
        if first:
            threading.Thread(target=self._watchdog, name="stop-watchdog", daemon=True).start()
            loop, requested = self._loop, self._requested
            if loop is not None and requested is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(requested.set)
        else:
            reason = f"second {signal.Signals(signum).name}: exiting now"
            threading.Thread(target=self._force_exit, args=(128 + signum, reason)).start()

    def _watchdog(self) -> None:
        if self._stopped.wait(self.stop_seconds):
            time.sleep(TEARDOWN_SECONDS)
            status, what = 0, "stopped, but worker threads are still busy"
        else:
            status, what = 1, f"not stopped {self.stop_seconds:g}s after the signal"
        busy = [t.name for t in threading.enumerate() if not t.daemon and t.name != "MainThread"]
        self._force_exit(status, f"{what} ({', '.join(busy) or 'no thread'}); exiting now")

    def _force_exit(self, status: int, reason: str) -> None:
        log.log(logging.WARNING if status == 0 else logging.ERROR, "lg-deploy: %s", reason)
        done = threading.Event()

        def clean() -> None:
            for cleanup in reversed(self._cleanups):
                try:
                    cleanup()
                except Exception:  # exiting anyway: say why it was not clean
                    log.exception("clean-up before exit failed")
            done.set()

        threading.Thread(target=clean, name="exit-cleanup", daemon=True).start()
        done.wait(CLEANUP_SECONDS)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(status)
