"""Models of ``/tenants/{tenant_id}/limits`` (lg-deploy extension): a tenant's limits, what
overrides the defaults, and what it uses now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.api.payload import INT32_MAX

Limit = Annotated[int | None, Field(ge=0, le=INT32_MAX)]


class LimitValues(BaseModel):
    """The four per-tenant limits. In a ``PUT`` body and in ``overrides``: ``null`` (or left
    out) means the deployment's default (``LG_DEPLOY_TENANT_*``) applies. In ``effective``:
    ``null`` means no limit."""

    model_config = ConfigDict(extra="forbid")

    max_running_runs: Limit = Field(
        None, description="runs running at once, across executors (more wait, pending)"
    )
    max_queued_runs: Limit = Field(None, description="pending runs; creating another answers 429")
    requests_per_window: Limit = Field(
        None, description="requests per rate window (see rate_window_seconds); 429 beyond"
    )
    max_streams: Limit = Field(
        None, description="SSE streams open at once (run streams, joins, thread streams); 429"
    )


class LimitUsage(BaseModel):
    """What the tenant uses now."""

    running_runs: int
    queued_runs: int
    open_streams: int = Field(description="streams holding a lease (opened under a limit)")


class TenantLimits(BaseModel):
    """A tenant's limits: what applies, what is stored for it, and its usage."""

    tenant_id: str
    effective: LimitValues = Field(description="the limits that apply (null: none)")
    overrides: LimitValues = Field(description="what is stored for this tenant (null: default)")
    rate_window_seconds: int = Field(description="length of the request-rate window")
    updated_at: datetime | None = Field(description="when the overrides last changed")
    usage: LimitUsage
