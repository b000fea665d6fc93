"""Request and response models of the admin API (``/admin/tenants``, ``/admin/keys``), an
lg-deploy extension: tenants and built-in API keys (README "API keys, tenants and roles").

Unknown fields are refused (422): a misspelt ``tenant_id`` must not give a key to the caller's
own tenant instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal["viewer", "developer", "operator", "admin"]
"""The built-in roles, weakest first (``shared.auth.context.Role`` says what each may do)."""

TENANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
"""A tenant id: 1 to 63 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or
digit."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantCreate(_Request):
    """``POST /admin/tenants``."""

    tenant_id: str = Field(pattern=TENANT_ID_PATTERN, description="the tenant's id")
    name: str = Field("", max_length=200, description="a display name")


class Tenant(BaseModel):
    """A tenant: an organisation or project owning its own threads, runs, assistants, crons,
    store items and API keys."""

    tenant_id: str
    name: str
    created_at: datetime


class ApiKeyCreate(_Request):
    """``POST /admin/keys``."""

    role: RoleName
    tenant_id: str | None = Field(
        None, pattern=TENANT_ID_PATTERN, description="default: the caller's tenant"
    )
    name: str | None = Field(
        None, min_length=1, max_length=100, description="unique among the tenant's live keys"
    )


class ApiKey(BaseModel):
    """A built-in API key, without its secret (which is never stored)."""

    key_id: UUID
    tenant_id: str
    name: str | None
    role: RoleName
    created_at: datetime
    revoked_at: datetime | None = Field(description="when it was revoked; null while valid")
    last_used_at: datetime | None = Field(
        description="last authentication, to within LG_DEPLOY_API_KEY_CACHE_SECONDS"
    )


class ApiKeyCreated(ApiKey):
    """A key just created, with its secret: shown in this answer only."""

    key: str = Field(description="the secret to send as X-Api-Key or Authorization: Bearer")
