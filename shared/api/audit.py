"""Models of the audit log: ``GET /admin/audit`` (lg-deploy extension) and what intake records.

An audit event is one security-relevant request (a delete, a cancel, an assistant or cron
change, an ``/admin/*`` call) or a count of refused requests (401/403) from one client in one
minute. README "Audit log" lists what is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, field_validator

from shared.api.common import Model, Offset

UNAUTHORIZED = "auth.unauthorized"
"""The action of a count of 401 answers (no or wrong credentials)."""
FORBIDDEN = "auth.forbidden"
"""The action of a count of 403 answers (known caller, operation not allowed)."""


def storable(text: str) -> str:
    """``text`` as PostgreSQL ``text`` holds it: NUL and lone surrogates backslash-escaped (a
    request path may hold them: the row of a refused request must still be written)."""
    return text.encode(errors="backslashreplace").decode().replace("\x00", "\\x00")


class AuditEvent(BaseModel):
    """What happened, who did it, from where: one row of the audit log before it is stored.
    Text fields are made :func:`storable`."""

    occurred_at: datetime = Field(
        description="when the request arrived; for a count, the start of its minute"
    )
    tenant_id: str | None = Field(description="the caller's tenant; null when not authenticated")
    identity: str | None = Field(
        description="the caller's identity (API key name, custom auth user); null when not "
        "authenticated or for an open deployment's anonymous caller"
    )
    role: str | None = Field(description="the caller's built-in role")
    action: str = Field(
        description="<resource>.<verb> (threads.delete, runs.cancel, assistants.create, "
        "crons.update, keys.create…), or auth.unauthorized / auth.forbidden for a count"
    )
    resource_type: str | None = Field(description="threads, runs, assistants, crons, store…")
    resource_id: str | None = Field(description="the resource's id, when the request names one")
    method: str | None = Field(description="HTTP method; null for a count")
    path: str | None = Field(description="request path; null for a count")
    status: int = Field(description="the HTTP status answered")
    client: str | None = Field(description="the client's address (README: X-Forwarded-For)")
    request_id: str | None = Field(description="the request context's id; null for a count")
    count: int = Field(
        default=1, ge=1, description="requests this row stands for (>1 only for counts)"
    )

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        return storable(value) if isinstance(value, str) else value


class AuditEntry(AuditEvent):
    """A stored row of the audit log."""

    audit_id: int = Field(description="increasing with insertion")


class AuditQuery(Model):
    """Query of ``GET /admin/audit``: newest first, ``since`` inclusive, ``until`` exclusive
    (ISO 8601; without a time zone, UTC as a cron's ``end_time``)."""

    action: str | None = Field(None, description="only this action")
    since: datetime | None = Field(None, description="occurred at or after")
    until: datetime | None = Field(None, description="occurred before")
    limit: int = Field(100, ge=1, le=1000)
    offset: Offset = 0

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """The time in UTC (naive: read as UTC); a time UTC cannot hold is refused."""
        if value is None:
            return None
        try:
            return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("out of the range of UTC times") from exc
