"""Built-in API keys: :class:`KeysAccess`, the deployment's
:class:`~shared.auth.access.Access` when ``langgraph.json`` has no custom auth.

- Credentials: ``X-Api-Key: <key>`` (the header ``langgraph_sdk`` sends for ``api_key=``;
  ``X-Auth-Scheme: langsmith-api-key`` alongside it is accepted and changes nothing),
  ``Authorization: Bearer <key>``, or for CloudEvents from sources that only add extensions
  the extension ``lgdapikey`` (binary mode: header ``ce-lgdapikey``).
- While no key was ever created the deployment is open (every request is the default
  tenant's anonymous admin), unless ``LG_DEPLOY_REQUIRE_API_KEY`` is set. Once one exists
  (even revoked: revoking every key does not reopen it), a request without a key, or with an
  unknown or revoked one, is 401 ``{"detail"}`` with ``WWW-Authenticate``.
- The context of a key: its tenant, ``Caller(identity=<name, else key id>, role=<role>,
  permissions=<the role's actions>)``. :meth:`KeysAccess.authorize` refuses an action the
  role lacks (403): ``viewer`` reads (read, search, get, list_namespaces); ``developer``,
  ``operator`` and ``admin`` also create, update, delete, run and put.
- Cost: lookups are kept in process memory for ``LG_DEPLOY_API_KEY_CACHE_SECONDS`` (5 s): a
  request costs a SHA-256 and a dict lookup, no database round trip. So a key revoked, or the
  first key created (e.g. by ``lg-deploy keys create`` against the same database), takes
  effect within that time in every process; ``last_used_at`` is as precise.
"""

from __future__ import annotations

from typing import Any, get_args

import asyncpg
from starlette.datastructures import Headers
from starlette.requests import Request

from shared.auth.access import Action, MetadataFilter, Resource
from shared.auth.context import Caller, RequestContext, Role, open_context
from shared.auth.key_admin import key_hash
from shared.auth.memo import TtlMemo
from shared.db import api_keys as keys_db
from shared.errors import Forbidden, Unauthorized
from shared.tracing.propagation import edge_trace

READ_ACTIONS: frozenset[Action] = frozenset({"read", "search", "get", "list_namespaces"})
ALL_ACTIONS: frozenset[Action] = frozenset(get_args(Action))
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    "viewer": READ_ACTIONS,
    "developer": ALL_ACTIONS,
    "operator": ALL_ACTIONS,
    "admin": ALL_ACTIONS,
}
"""What each role may do on threads, assistants, crons and the store. Beyond these,
``operator`` and ``admin`` are checked where their own operations are (cancelling others' runs,
limits; keys and tenants)."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="lg-deploy"'}
_EVERYONE = "every key"


CLOUDEVENT_KEY = "ce-lgdapikey"
"""The CloudEvent extension ``lgdapikey`` in binary mode: how an event source that can only
add extensions (Knative PingSource, KafkaSource: ``ceOverrides.extensions``) presents a key."""


def presented_key(headers: Headers) -> str | None:
    """The key a request carries: ``X-Api-Key``, else the CloudEvent extension ``lgdapikey``
    (:data:`CLOUDEVENT_KEY`), else ``Authorization: Bearer``; ``None``."""
    for header in ("x-api-key", CLOUDEVENT_KEY):
        key = headers.get(header, "").strip()
        if key:
            return key
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def caller_of(row: asyncpg.Record) -> Caller:
    """The caller a key row (``key_id, name, role``) authenticates."""
    role: Role = row["role"]
    identity = row["name"] or str(row["key_id"])
    return Caller(identity=identity, permissions=tuple(sorted(ROLE_ACTIONS[role])), role=role)


class KeysAccess:
    """Authentication by built-in API keys and authorization by role (module docstring).
    ``required``: refuse requests without a key even before the first key exists."""

    def __init__(self, pool: asyncpg.Pool, cache_seconds: float, required: bool = False) -> None:
        self._pool = pool
        self._keys_exist = required
        self._existence: TtlMemo[str, bool] = TtlMemo(self._any_exist, cache_seconds)
        self._keys: TtlMemo[bytes, tuple[str, Caller] | None] = TtlMemo(self._use, cache_seconds)

    async def closed(self) -> bool:
        """Whether requests need a key (one exists, or keys are required)."""
        if not self._keys_exist:
            self._keys_exist = await self._existence.get(_EVERYONE)
        return self._keys_exist

    async def authenticate(self, request: Request) -> RequestContext:
        """The context of the request's valid key (whether or not this process knows yet that
        keys exist); else, while :meth:`closed` is false, the open context (a client may send
        a key of its environment, e.g. ``LANGSMITH_API_KEY``, to an open deployment). Raises
        :class:`~shared.errors.Unauthorized` (missing, unknown or revoked key)."""
        trace = edge_trace(request.headers)
        key = presented_key(request.headers)
        found = await self._keys.get(key_hash(key)) if key is not None else None
        if found is not None:
            tenant_id, caller = found
            return RequestContext(tenant_id, caller).in_trace(trace)
        if not await self.closed():
            return open_context(trace)
        if key is None:
            raise Unauthorized(
                "Missing API key: send X-Api-Key or Authorization: Bearer", headers=CHALLENGE
            )
        raise Unauthorized("Invalid or revoked API key", headers=CHALLENGE)

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        """Allowed, unfiltered, when the caller's role has ``action``; raises
        :class:`~shared.errors.Forbidden` otherwise."""
        if action not in ROLE_ACTIONS[ctx.caller.role]:
            raise Forbidden(f"Role '{ctx.caller.role}' may not {action} {resource}")
        return None

    async def _any_exist(self, _: str) -> bool:
        return await keys_db.any_exist(self._pool)

    async def _use(self, digest: bytes) -> tuple[str, Caller] | None:
        row = await keys_db.use(self._pool, digest)
        return None if row is None else (row["tenant_id"], caller_of(row))
