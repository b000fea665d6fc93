"""The request context: who calls, for which tenant, under which trace.

Built once at the edge by :meth:`shared.auth.access.Access.authenticate` (REST, streams, A2A,
MCP and ``/cloudevents`` alike), passed to the services, stored with every run and cron
(``runs.request_context``, ``crons.request_context``) and restored from there by the
executor for the run's whole life, by cron for the runs it starts and by the webhook deliverer
for what it sends. Its JSON form (:meth:`RequestContext.to_json`) is what is stored and what
bus messages and CloudEvent extensions carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from shared.api.admin import RoleName
from shared.db.scope import DEFAULT_TENANT
from shared.tracing.propagation import TraceFields

Role = RoleName
"""Built-in roles, weakest first (defined with the admin API's models, the lowest layer):
``viewer`` reads; ``developer`` also creates, changes and runs; ``operator`` also cancels any
run of the tenant and sets limits; ``admin`` also manages keys and tenants."""

ROLES: tuple[Role, ...] = get_args(Role)


def role_at_least(role: Role, needed: Role) -> bool:
    """Whether ``role`` includes ``needed`` (roles are ordered as :data:`ROLES`)."""
    return ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Caller:
    """The authenticated user, as the official server's ``BaseUser``: ``identity`` (a key's
    name or id, a custom auth user's ``identity``), ``display_name``, ``permissions``,
    ``is_authenticated`` (false only for an open deployment's anonymous caller), the built-in
    ``role``, and ``extra``: the other fields a custom ``@auth.authenticate`` returned (its
    own ``permissions`` or ``role`` among them), kept for
    ``config["configurable"]["langgraph_auth_user"]`` (:mod:`shared.auth.user`)."""

    identity: str
    display_name: str = ""
    permissions: tuple[str, ...] = ()
    is_authenticated: bool = True
    role: Role = "admin"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"identity", "display_name", "is_authenticated", "permissions", "role",
        "extra"}``: ``extra`` apart, so a custom user's own fields (a ``role`` of its own)
        never pass for the built-in ones."""
        return {
            "identity": self.identity,
            "display_name": self.display_name or self.identity,
            "is_authenticated": self.is_authenticated,
            "permissions": list(self.permissions),
            "role": self.role,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Caller:
        """Inverse of :meth:`to_json`."""
        role = data.get("role", "admin")
        return cls(
            identity=str(data.get("identity", "")),
            display_name=str(data.get("display_name", "")),
            permissions=tuple(data.get("permissions") or ()),
            is_authenticated=bool(data.get("is_authenticated", True)),
            role=role if role in ROLES else "viewer",
            extra=dict(data.get("extra") or {}),
        )


ANONYMOUS = Caller(identity="", is_authenticated=False, role="admin")
"""The caller of an open deployment (no keys, no custom auth): may do everything."""


@dataclass(frozen=True)
class RequestContext:
    """Who (``caller``), which ``tenant_id``, and the request's ``request_id`` and W3C
    ``traceparent`` / ``tracestate`` (``None`` when absent). With tracing on, the trace names
    the request's server span (:func:`shared.tracing.propagation.edge_trace`), so the run's
    work downstream is in the request's trace; off, it is the request's own headers."""

    tenant_id: str
    caller: Caller
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    traceparent: str | None = None
    tracestate: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"tenant_id", "user", "request_id", "traceparent", "tracestate"}`` (stored with
        runs/crons)."""
        return {
            "tenant_id": self.tenant_id,
            "user": self.caller.to_json(),
            "request_id": self.request_id,
            "traceparent": self.traceparent,
            "tracestate": self.tracestate,
        }

    def carried(self) -> dict[str, str]:
        """What messages about the request's work carry (bus payloads; CloudEvents as the
        extensions ``tenantid``, ``requestid``, ``traceparent``, ``tracestate``):
        ``tenant_id``, ``request_id`` and, when present, ``traceparent`` and ``tracestate``."""
        carried = {"tenant_id": self.tenant_id, "request_id": self.request_id}
        if self.traceparent:
            carried["traceparent"] = self.traceparent
            if self.tracestate:
                carried["tracestate"] = self.tracestate
        return carried

    def in_trace(self, trace: TraceFields | None) -> RequestContext:
        """This context continuing ``trace`` instead (itself when ``trace`` is ``None``)."""
        return self if trace is None else replace(self, **trace)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RequestContext:
        """Inverse of :meth:`to_json`; ``None`` or ``{}`` (a run stored before request
        contexts existed) is the open deployment's anonymous context."""
        if not data:
            return open_context()
        return cls(
            tenant_id=str(data.get("tenant_id") or DEFAULT_TENANT),
            caller=Caller.from_json(data.get("user") or {}),
            request_id=str(data.get("request_id") or uuid.uuid4().hex),
            traceparent=data.get("traceparent"),
            tracestate=data.get("tracestate"),
        )


def open_context(trace: TraceFields | None = None) -> RequestContext:
    """The context of a request to an open deployment: the default tenant, anonymous, in
    ``trace`` (:func:`shared.tracing.propagation.edge_trace`)."""
    return RequestContext(DEFAULT_TENANT, ANONYMOUS).in_trace(trace)
