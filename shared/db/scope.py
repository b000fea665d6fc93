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


@dataclass(frozen=True)
class Scope:
    """``tenant_id``: the rows' tenant; ``metadata``: a JSON object their ``metadata`` must
    contain (``None``: no such filter)."""

    tenant_id: str
    metadata: Mapping[str, Any] | None = None

    def where(self, args: list[Any], alias: str = "") -> str:
        """The SQL condition of this scope on table ``alias`` (empty: unqualified columns),
        appending its parameters to ``args`` (numbered ``$len(args)+1``…)."""
        col = f"{alias}." if alias else ""
        args.append(self.tenant_id)
        condition = f"{col}tenant_id = ${len(args)}"
        if self.metadata:
            args.append(dict(self.metadata))
            condition += f" AND {col}metadata @> ${len(args)}::jsonb"
        return condition
