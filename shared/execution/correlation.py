"""The correlation ids (PRD §9.3) of a run's work, for :data:`shared.logs.run_context`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.auth.context import RequestContext


def run_log_context(row: Mapping[str, Any]) -> dict[str, str]:
    """``run_id``, ``thread_id``, ``assistant_id``, ``graph_id``, ``attempt`` and the carried
    ids of the request that created the run (``tenant_id``, ``request_id``, ``traceparent``)
    of ``row``: a ``runs`` row or a ``webhook_deliveries`` row (the ended run's columns,
    ``shared.db.outbox.ENDED_RUN_COLUMNS``)."""
    return {
        "run_id": str(row["run_id"]),
        "thread_id": str(row["thread_id"]),
        "assistant_id": str(row["assistant_id"]),
        "graph_id": str((row["metadata"] or {}).get("graph_id")),
        "attempt": str(row["attempt"]),
        **RequestContext.from_json(row["request_context"]).carried(),
    }
