"""The executor as a deployable function: claims and runs runs.

Alone (``lg-deploy executor``) it serves :func:`functions.executor.app.create_app` (``/ok`` and
``/metrics``); inside ``lg-deploy dev`` intake's app serves those.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp

from functions.executor.app import create_app
from functions.executor.worker import Executor
from shared.runtime.context import Runtime
from shared.runtime.function import Placement

log = logging.getLogger(__name__)


class ExecutorFunction:
    """An :class:`Executor` with ``n_jobs`` slots; reclaims all leases first when it owns the
    database (a restart of ``lg-deploy dev`` after a crash). ``app`` (health and metrics) is
    set when it runs alone."""

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.executor = Executor(rt, n_jobs=rt.settings.n_jobs)
        self.app: ASGIApp | None = create_app(rt, self.executor) if placement.alone else None
        self._owns_database = placement.owns_database

    async def start(self) -> None:
        """Reclaim stale leases if the database is ours alone, then start claiming."""
        if self._owns_database:
            await self.executor.sweep(every_running=True)
        await self.executor.start()
        log.info("lg-deploy executor %s running", self.executor.executor_id)

    async def stop(self) -> None:
        """Stop claiming and hand running runs back."""
        await self.executor.stop()


def build(rt: Runtime, placement: Placement) -> ExecutorFunction:
    """The executor over ``rt``."""
    return ExecutorFunction(rt, placement)
