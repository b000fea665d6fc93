"""The cron function: fires due crons, one tick at a time.

Alone (``lg-deploy cron --database-url …``) it serves :func:`functions.cron.app.create_app`
and ticks once per CloudEvent (Knative PingSource, every minute). Inside ``lg-deploy dev`` it
has no HTTP surface and ticks on its own timer every ``cron_tick_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import asyncpg
from starlette.types import ASGIApp

from functions.cron.app import create_app
from shared.runtime.context import Runtime
from shared.runtime.crons import tick
from shared.runtime.function import Placement

log = logging.getLogger(__name__)


class CronFunction:
    """Ticks from CloudEvents (``app``, when alone) or from a timer (inside ``lg-deploy dev``)."""

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.rt = rt
        self.app: ASGIApp | None = create_app(rt) if placement.alone else None
        self._timer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the timer when there is no CloudEvent source (inside ``lg-deploy dev``)."""
        if self.app is None:
            self._timer = asyncio.create_task(self._every(self.rt.settings.cron_tick_seconds))
        log.info("lg-deploy cron running (%s)", "CloudEvents" if self.app else "timer")

    async def stop(self) -> None:
        """Stop the timer; a tick cut short rolls back and the next one redoes it."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer

    async def _every(self, seconds: float) -> None:
        while True:
            try:
                done = await tick(self.rt, datetime.now(UTC))
                if done.fired:
                    log.info("cron tick at %s: fired %d", done.now.isoformat(), len(done.fired))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cron tick failed: %s", exc)
            await asyncio.sleep(seconds)


def build(rt: Runtime, placement: Placement) -> CronFunction:
    """The cron function over ``rt``: CloudEvent-driven when alone, timer-driven in dev."""
    return CronFunction(rt, placement)
