"""The webhook function: delivers run-end webhooks from the PostgreSQL outbox; no HTTP surface.

``lg-deploy webhooks --database-url …`` runs it alone (wakes come over LISTEN/NOTIFY);
``lg-deploy dev`` runs it with the others. Any number of instances may run at once.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp

from functions.webhooks.deliverer import Deliverer
from shared.runtime.context import Runtime
from shared.runtime.function import Placement
from shared.webhooks import outbox

log = logging.getLogger(__name__)


class WebhooksFunction:
    """A :class:`Deliverer` over the runtime's database and bus; when the database is this
    process's alone (a restart of ``lg-deploy dev`` after a crash), the leases left behind
    are ended first instead of waited out."""

    app: ASGIApp | None = None

    def __init__(self, rt: Runtime, placement: Placement) -> None:
        self.deliverer = Deliverer(rt)
        self._rt = rt
        self._owns_database = placement.owns_database

    async def start(self) -> None:
        """End stale leases if the database is ours alone, then start claiming."""
        if self._owns_database:
            await outbox.expire_leases(self._rt.db.pool)
        await self.deliverer.start()
        log.info("lg-deploy webhooks deliverer %s running", self.deliverer.deliverer_id)

    async def stop(self) -> None:
        """Stop; deliveries in flight are handed back."""
        await self.deliverer.stop()


def build(rt: Runtime, placement: Placement) -> WebhooksFunction:
    """The webhook function over ``rt``; ``placement.owns_database`` ends stale leases."""
    return WebhooksFunction(rt, placement)
