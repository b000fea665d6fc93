"""The access seam: how a request becomes a :class:`~shared.auth.context.RequestContext`
(``authenticate``) and what an operation on a resource may touch (``authorize``).

One :class:`Access` per process, on ``Runtime.access``; the edge calls ``authenticate`` once per
request, the services call ``authorize`` once per operation and hand the resulting
:class:`~shared.db.scope.Scope` to the data layer, which applies it in SQL. Implementations:
:class:`OpenAccess` (no keys, no custom auth), built-in API keys, and custom auth
(``langgraph.json`` ``auth.path``, a ``langgraph_sdk.Auth``).

Resources and actions are the official server's (``@auth.on.<resource>.<action>``):
``threads``, ``assistants``, ``crons``, ``store``; ``create``, ``read``, ``update``,
``delete``, ``search``, ``create_run`` (threads only), and for ``store`` ``put``, ``get``,
``search``, ``list_namespaces``, ``delete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from starlette.requests import Request

from shared.auth.context import RequestContext, open_context
from shared.tracing.propagation import edge_trace

Resource = Literal["threads", "assistants", "crons", "store"]
Action = Literal[
    "create",
    "read",
    "update",
    "delete",
    "search",
    "create_run",
    "put",
    "get",
    "list_namespaces",
]

MetadataFilter = Mapping[str, Any]
"""What ``authorize`` may return: a JSON object the resource's ``metadata`` must contain
(``metadata @> filter``); custom auth's ``{"owner": "a"}``, ``{"owner": {"$eq": "a"}}`` and
``{"tags": {"$contains": "x"}}`` all reduce to one."""


class Access(Protocol):
    """Authentication and authorization of one deployment."""

    async def authenticate(self, request: Request) -> RequestContext:
        """The context of ``request``. Raises :class:`~shared.errors.Unauthorized` (401)
        or :class:`~shared.errors.Forbidden` (403, or another status a custom auth chose)."""
        ...

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        """May ``ctx`` do ``action`` on ``resource``? ``value`` is the operation's input as the
        official handlers receive it (e.g. ``{"thread_id", "metadata"}`` for
        ``threads.create``); an implementation may change it in place (e.g. add
        ``metadata.owner``). Returns the metadata filter the operation is limited to, or
        ``None`` for none. Raises :class:`~shared.errors.Forbidden` when denied."""
        ...


class OpenAccess:
    """An open deployment: every request is the default tenant's anonymous admin."""

    async def authenticate(self, request: Request) -> RequestContext:
        """The open context, in the request's trace."""
        return open_context(edge_trace(request.headers))

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        """Everything is allowed, unfiltered."""
        return None
