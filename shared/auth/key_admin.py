"""Tenants and built-in API keys, as the CLI (``lg-deploy tenants|keys``) and the admin API
(:mod:`shared.services.admin`) create and revoke them.

A key is ``lgd_`` followed by 43 URL-safe characters (32 random bytes from :mod:`secrets`);
only its SHA-256 is stored, so it is shown once, when created, and never logged.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

import asyncpg

from shared.api.admin import TENANT_ID_PATTERN
from shared.auth.context import ROLES
from shared.db import api_keys as keys_db
from shared.db import tenants as tenants_db
from shared.errors import Conflict, Invalid, NotFound

KEY_PREFIX = "lgd_"
"""Every key starts with it, so a leaked one is recognisable (secret scanners, logs)."""


def new_key() -> str:
    """A new secret: :data:`KEY_PREFIX` and 256 random bits, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes:
    """The SHA-256 of ``key`` (what is stored and looked up)."""
    return hashlib.sha256(key.encode()).digest()


def check_tenant_id(tenant_id: str) -> None:
    """Raises :class:`~shared.errors.Invalid` unless ``tenant_id`` matches
    :data:`~shared.api.admin.TENANT_ID_PATTERN`."""
    if not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise Invalid(
            f"invalid tenant id {tenant_id!r}: 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


async def create_tenant(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: str, name: str = ""
) -> asyncpg.Record:
    """Create tenant ``tenant_id``; its row. Raises Invalid (bad id), Conflict (exists)."""
    check_tenant_id(tenant_id)
    row = await tenants_db.create(conn, tenant_id, name)
    if row is None:
        raise Conflict(f"Tenant '{tenant_id}' already exists")
    return row


async def create_key(
    conn: asyncpg.Pool | asyncpg.Connection, tenant_id: str, role: str, name: str | None = None
) -> tuple[asyncpg.Record, str]:
    """Create a key of ``tenant_id`` with ``role``; its row and its secret (to show once).
    Raises Invalid (unknown role), NotFound (unknown tenant), Conflict (a live key of the
    tenant has that ``name``)."""
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    key = new_key()
    try:
        row = await keys_db.create(conn, uuid.uuid4(), tenant_id, name, role, key_hash(key))
    except asyncpg.ForeignKeyViolationError:
        raise NotFound(f"Tenant '{tenant_id}' not found") from None
    if row is None:
        raise Conflict(f"Tenant '{tenant_id}' has a key named '{name}' already")
    return row, key


async def revoke_key(
    conn: asyncpg.Pool | asyncpg.Connection, ref: str, tenant_id: str | None = None
) -> asyncpg.Record:
    """Revoke the key ``ref`` names (its id, or the name of a live key), within ``tenant_id``
    when given; its row. Raises NotFound, and Conflict when the name is used in several
    tenants and no ``tenant_id`` says which."""
    found = await keys_db.find(conn, ref, tenant_id)
    if not found:
        raise NotFound(f"API key '{ref}' not found")
    if len(found) > 1:
        tenants = ", ".join(sorted({r["tenant_id"] for r in found}))
        raise Conflict(f"API key name '{ref}' is used in tenants {tenants}: name the tenant")
    row = await keys_db.revoke(conn, found[0]["key_id"], tenant_id)
    if row is None:
        raise NotFound(f"API key '{ref}' not found")
    return row
