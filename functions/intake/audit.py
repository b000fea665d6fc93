"""The audit trail at intake's edge: which requests the audit log records, read from the route
table, so a route added later is covered without anyone remembering to.

After each response, :class:`AuditTrail` hands the request to the
:class:`~shared.services.audit.AuditRecorder` (in memory; written in the background) when its
route is security-relevant (:func:`operation`):

- any ``DELETE``;
- a ``POST`` that cancels or prunes (``…/cancel``, ``/threads/prune``);
- a ``POST``, ``PATCH`` or ``PUT`` on assistants or crons, except the ones that only read
  (``…/search``, ``…/count``, ``…/versions``);
- anything under ``/admin/``.

Every 401 and 403 answer, whatever the path, is counted instead (per minute, tenant, identity,
client and status: :meth:`~shared.services.audit.AuditRecorder.refused`).

The action is ``<resource>.<verb>``: the resource is the route's first tag (``threads``,
``runs``, ``assistants``, ``crons``, ``store``…) or, under ``/admin/``, the path's next
segment (``keys``, ``tenants``, ``audit``); the verb is ``delete`` (DELETE), ``update`` (PATCH,
PUT), ``read`` (GET), the path's last segment for a POST that acts on something
(``cancel``, ``prune``, ``latest``…) and ``create`` for a POST on a collection. The resource id
is the route's last path parameter; for a create, the ``<resource>_id`` field of the JSON
answer. Who, tenant and request id come from the request context (``request.state.ctx``, none
for a 401); the client address is the server's view of the peer: uvicorn replaces it with the
``X-Forwarded-For`` address only for peers listed in ``FORWARDED_ALLOW_IPS`` (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import orjson
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.audit import AuditEvent
from shared.auth.context import RequestContext
from shared.services.audit import AuditRecorder

REFUSED = frozenset({401, 403})
READ_VERBS = frozenset({"search", "count", "versions"})
"""Last segments of POST routes that only read."""
DESTRUCTIVE_VERBS = frozenset({"cancel", "prune"})
"""Last segments of POST routes that cancel or delete, whatever the resource."""
CHANGES_RECORDED = frozenset({"assistants", "crons", "limits"})
"""Resources every change of which is recorded (POST, PATCH, PUT)."""
MAX_ANSWER_BYTES = 64 * 1024
"""Largest create answer read for the new resource's id."""


@dataclass(frozen=True)
class Operation:
    """What a recorded route does: ``resource`` and ``verb`` (the action is
    ``resource.verb``) and the path parameter naming the resource (``None``: none)."""

    resource: str
    verb: str
    id_param: str | None

    @property
    def action(self) -> str:
        return f"{self.resource}.{self.verb}"


def _verb(method: str, segments: list[str]) -> str:
    if method == "DELETE":
        return "delete"
    if method in ("PATCH", "PUT"):
        return "update"
    if method != "POST":
        return "read"
    last = segments[-1] if segments else ""
    acts_on_one = len(segments) > 1 and segments[-2].startswith("{")
    if not last.startswith("{") and (acts_on_one or last in DESTRUCTIVE_VERBS | READ_VERBS):
        return last
    return "create"


@cache
def classify(method: str, template: str, tags: tuple[str, ...]) -> Operation | None:
    """The :class:`Operation` of a route (``template`` as ``/threads/{thread_id}``), or
    ``None`` when the audit log does not record it (rules in the module docstring)."""
    segments = [s for s in template.split("/") if s]
    verb = _verb(method, segments)
    admin = segments[:1] == ["admin"]
    if admin:
        resource = segments[1] if len(segments) > 1 else "admin"
    else:
        resource = tags[0] if tags else (segments[:1] or ["root"])[0]
    recorded = (
        method == "DELETE"
        or verb in DESTRUCTIVE_VERBS
        or admin
        or (resource in CHANGES_RECORDED and method in ("POST", "PATCH", "PUT"))
    )
    if not recorded or verb in READ_VERBS:
        return None
    named = segments[:-1] if segments and segments[-1] == verb else segments
    id_param = named[-1][1:-1] if named and named[-1].startswith("{") else None
    return Operation(resource, verb, id_param)


def operation(scope: Scope) -> Operation | None:
    """The :class:`Operation` of the route that served ``scope`` (``None``: not recorded, or
    no route matched)."""
    route = scope.get("route")
    if not isinstance(route, APIRoute):
        return None
    return classify(scope["method"], route.path_format, tuple(str(t) for t in route.tags))


def _created_id(op: Operation, answer: bytes) -> str | None:
    """The ``<resource>_id`` field of a create's JSON answer (``None`` if absent)."""
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return None
    value = body.get(f"{op.resource.removesuffix('s')}_id") if isinstance(body, dict) else None
    return None if value is None else str(value)


class AuditTrail:
    """ASGI middleware: after each HTTP response, record it (module docstring). Sits outside
    :class:`functions.intake.auth.Authenticate`, so it sees that middleware's 401s too."""

    def __init__(self, app: ASGIApp, recorder: AuditRecorder) -> None:
        self.app, self.recorder = app, recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = datetime.now(UTC)
        status = 500  # the app raised before answering
        answer: bytearray | None = None

        async def watched(message: Message) -> None:
            nonlocal status, answer
            if message["type"] == "http.response.start":
                status = message["status"]
                op = operation(scope)
                if op is not None and op.verb == "create" and status < 300:
                    answer = bytearray()
            elif answer is not None and len(answer) <= MAX_ANSWER_BYTES:
                answer += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            self._after(scope, arrived, status, answer)

    def _after(
        self, scope: Scope, arrived: datetime, status: int, answer: bytearray | None
    ) -> None:
        op = None if status in REFUSED else operation(scope)
        if op is None and status not in REFUSED:
            return
        ctx: RequestContext | None = scope.get("state", {}).get("ctx")
        caller = ctx.caller if ctx is not None else None
        resource_id = None
        if op is not None and op.id_param is not None:
            resource_id = str(scope.get("path_params", {}).get(op.id_param))
        elif op is not None and answer is not None:
            resource_id = _created_id(op, bytes(answer))
        client = scope.get("client")
        event = AuditEvent(
            occurred_at=arrived,
            tenant_id=ctx.tenant_id if ctx else None,
            identity=(caller.identity or None) if caller else None,
            role=caller.role if caller else None,
            action=op.action if op else "",
            resource_type=op.resource if op else None,
            resource_id=resource_id,
            method=scope["method"],
            path=scope["path"],
            status=status,
            client=client[0] if client else None,
            request_id=ctx.request_id if ctx else None,
        )
        if op is None:
            self.recorder.refused(event)
        else:
            self.recorder.record(event)
