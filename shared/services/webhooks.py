"""The webhook operations the API calls: check a run's webhook URL, list its deliveries."""

from __future__ import annotations

import uuid
from typing import Any

from shared.auth.context import RequestContext
from shared.db import outbox
from shared.db import runs as runs_db
from shared.db import threads as threads_db
from shared.errors import NotFound
from shared.runtime.context import Runtime
from shared.services.access import scope_of
from shared.webhooks.policy import check_url


def check_webhook(rt: Runtime, url: str | None) -> None:
    """Refuse a run's ``webhook`` the project's ``webhooks.url`` policy does not allow
    (``None``: no webhook). Raises :class:`~shared.webhooks.policy.WebhookRefused` (422)."""
    if url is not None:
        check_url(rt.webhooks.policy, url)


async def list_deliveries(
    rt: Runtime, ctx: RequestContext, thread_id: uuid.UUID, run_id: uuid.UUID
) -> list[dict[str, Any]]:
    """``GET /threads/{thread_id}/runs/{run_id}/webhooks`` (lg-deploy extension): the run's
    webhook deliveries, each with every attempt, if ``ctx`` may read its thread
    (``threads.read``) — or, once a stateless run went with its thread, if the run was
    ``ctx``'s tenant's. Raises NotFound when the run is unknown."""
    value = {"thread_id": thread_id, "run_id": run_id}
    scope = await scope_of(rt, ctx, "threads", "read", value)
    visible = await threads_db.get(rt.db.pool, thread_id, scope) is not None
    if not visible and await threads_db.get(rt.db.pool, thread_id, None) is not None:
        raise NotFound(f"Run '{run_id}' not found")  # someone else's thread
    deliveries = await outbox.deliveries_of_run(rt.db.pool, thread_id, run_id, ctx.tenant_id)
    if not deliveries and (not visible or await runs_db.get(rt.db.pool, run_id, thread_id) is None):
        raise NotFound(f"Run '{run_id}' not found")
    return deliveries
