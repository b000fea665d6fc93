"""The one place a query is limited to what its caller may see: a tenant, and the metadata
filter custom auth returned for the resource.

Every statement that reads or changes a tenant-owned row by a caller's request (assistants,
threads, crons; runs, events, attempts and webhook deliveries through their thread) takes a
:class:`Scope` and adds :meth:`Scope.where` to its ``WHERE``. Work that is not a caller's
(executor claims, sweeps, the cron tick) runs unscoped over every tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TENANT = "default"
"""The tenant of a deployment without built-in keys (open, or custom auth only), and of rows
stored before tenants existed."""


@dataclass(frozen=True)
class Scope:
    """``tenant_id``: the rows' tenant; ``metadata``: a JSON object their ``metadata`` must
    contain (``None``: no such filter)."""

    tenant_id: str
    metadata: Mapping[str, Any] | None = None

    def where(self, args: list[Any], alias: str = "", *, shared: bool = False) -> str:
        """The SQL condition of this scope on table ``alias`` (empty: unqualified columns),
        appending its parameters to ``args`` (numbered ``$len(args)+1``…). ``shared``: rows
        of no tenant (``tenant_id IS NULL``: system assistants) are within it too."""
        col = f"{alias}." if alias else ""
        args.append(self.tenant_id)
        condition = f"{col}tenant_id = ${len(args)}"
        if shared:
            condition = f"({condition} OR {col}tenant_id IS NULL)"
        if self.metadata:
            args.append(dict(self.metadata))
            condition += f" AND {col}metadata @> ${len(args)}::jsonb"
        return condition
