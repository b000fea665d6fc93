"""Custom authentication and authorization: the ``langgraph_sdk.Auth`` object that
``langgraph.json`` ``auth.path`` names, run as the official server runs it.

Source: langgraph-api 0.16 (``langgraph dev``) and the SDK's ``Auth`` documentation.

Authentication: the ``@auth.authenticate`` function (sync functions run in a worker thread)
gets, by parameter name, ``request`` (a Starlette request whose body cannot be read),
``path``, ``method``, ``path_params`` (``{}``: authentication runs before routing, on the
official server too), ``query_params`` (Starlette ``QueryParams``), ``headers`` (the raw ASGI
headers, ``dict[bytes, bytes]``), ``authorization`` (the header, or ``None``), ``scope`` (the
ASGI scope), ``scopes`` (``[]``) and ``user`` (``None``). It returns the user: an identity
string, a dict with an ``identity`` (``display_name``, ``is_authenticated``, ``permissions``
and any other field), an object with an ``identity`` attribute, or a ``(permissions, user)``
pair. ``Auth.exceptions.HTTPException`` becomes that status (any 4xx or 5xx), detail and
headers; anything else it raises is a 401 (the official server answers 400 or 500 there).
The caller is the default tenant's, with the built-in role :data:`CUSTOM_AUTH_ROLE`.

Authorization: the most specific handler answers (``@auth.on.<resource>.<action>``, then
``@auth.on.<resource>``, then ``@auth.on(actions=…)``, then ``@auth.on``); none: allowed. It
gets an ``Auth.types.AuthContext`` (``user``, ``permissions``, ``resource``, ``action``) and the
operation's ``value``, which it may change in place. ``None``/``True`` allow, ``False`` is a
403 ``Forbidden``, an ``AssertionError`` a 403 with its message, an
``Auth.exceptions.HTTPException`` that status, detail and headers, and a dict a metadata filter
(:mod:`shared.auth.filters`). Any other result or exception is the deployment's bug: a 500.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgraph_sdk import Auth
from langgraph_sdk.auth.types import Handler
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from shared.auth.access import Action, MetadataFilter, Resource
from shared.auth.context import DEFAULT_TENANT, Caller, RequestContext, Role
from shared.auth.filters import UnsupportedFilter, containment
from shared.auth.user import AuthUser
from shared.errors import DomainError, Forbidden, Refused, Unauthorized
from shared.graphs.config import ConfigError, ObjectRef, ProjectConfig
from shared.graphs.registry import import_object
from shared.serde import to_jsonable
from shared.tracing.propagation import edge_trace

log = logging.getLogger(__name__)

CUSTOM_AUTH_ROLE: Role = "operator"
"""The built-in role of every custom auth caller: the handlers decide what it may do with
threads, assistants, crons and the store; the administration of keys and tenants stays with
built-in admin keys."""


ARGUMENTS: dict[str, Callable[[Request], Any]] = {
    "request": lambda request: Request(request.scope),
    "path": lambda request: request.scope["path"],
    "method": lambda request: request.scope["method"],
    "path_params": lambda request: {},
    "query_params": lambda request: request.query_params,
    "headers": lambda request: dict(request.scope["headers"]),
    "authorization": lambda request: request.headers.get("authorization"),
    "scope": lambda request: request.scope,
    "scopes": lambda request: [],
    "user": lambda request: None,
}
"""What each parameter the ``@auth.authenticate`` function may take receives."""


class CustomAccess:
    """:class:`~shared.auth.access.Access` through a ``langgraph_sdk.Auth`` object. Build
    with :func:`custom_access`."""

    def __init__(self, auth: Auth, authenticator: Callable[..., Any], params: Sequence[str]):
        self.auth = auth
        self._authenticator = authenticator
        self._params = tuple(params)
        self._handlers: dict[tuple[str, str], Handler | None] = {}

    @classmethod
    def load(cls, project: ProjectConfig) -> CustomAccess:
        """Import ``project.auth.ref`` and check it (:meth:`of`). Raises
        :class:`ConfigError` naming ``auth.path`` when the import fails or the check does."""
        assert project.auth is not None
        ref = project.auth.ref
        auth = import_object(project, ref, "_lgd_auth")
        try:
            return cls.of(auth, ref.variable)
        except ValueError as exc:
            raise ConfigError(project.path, ref.key, str(exc)) from exc

    @classmethod
    def of(cls, auth: Any, name: str = "auth") -> CustomAccess:
        """Custom auth through ``auth`` (named ``name`` in messages). Raises ValueError
        when it is not a ``langgraph_sdk.Auth``, has no ``@auth.authenticate`` function, or
        that function requires a parameter nobody passes (as the official server refuses
        them at start-up)."""
        if not isinstance(auth, Auth):
            raise ValueError(f"{name!r} is a {type(auth).__name__}, not a langgraph_sdk.Auth")
        fn = auth._authenticate_handler
        if fn is None:
            raise ValueError(f"{name!r} has no @auth.authenticate function")
        params = inspect.signature(fn).parameters.values()
        unknown = [p.name for p in params if p.name not in ARGUMENTS and p.default is p.empty]
        if unknown:
            raise ValueError(
                f"the @auth.authenticate function requires {', '.join(map(repr, unknown))}; "
                f"it may take only {', '.join(ARGUMENTS)}"
            )
        access = cls(auth, fn, [p.name for p in params if p.name in ARGUMENTS])
        access._warn_unhandled()
        return access

    async def authenticate(self, request: Request) -> RequestContext:
        """The caller the ``@auth.authenticate`` function names. Raises
        :class:`~shared.errors.Refused` (its ``HTTPException``), ``Unauthorized`` (anything
        else it raised) or a 500 ``Refused`` (a result that names no user)."""
        kwargs = {name: ARGUMENTS[name](request) for name in self._params}
        try:
            if inspect.iscoroutinefunction(self._authenticator):
                result = await self._authenticator(**kwargs)
            else:
                result = await run_in_threadpool(self._authenticator, **kwargs)
        except Auth.exceptions.HTTPException as exc:
            raise _refusal(exc, Unauthorized) from exc
        except Exception as exc:  # user code: whatever it raises refuses the request
            log.info(
                "custom auth refused %s %s: %s",
                request.method,
                request.url.path,
                type(exc).__name__,
            )
            log.debug("the @auth.authenticate function raised", exc_info=True)
            raise Unauthorized("Unauthorized") from exc
        return RequestContext(DEFAULT_TENANT, caller_of(result)).in_trace(
            edge_trace(request.headers)
        )

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        """The answer of the handler for ``resource``/``action`` on ``value`` (which it may
        change). Work that no caller asked for (an anonymous context) is not checked, as on
        the official server. Raises :class:`~shared.errors.Forbidden`,
        :class:`~shared.errors.Refused`."""
        handler = self._handler(resource, action)
        user = AuthUser.of(ctx.caller)
        if handler is None or user is None:
            return None
        auth_ctx = Auth.types.AuthContext(
            permissions=list(ctx.caller.permissions), user=user, resource=resource, action=action
        )
        where = f"{resource}.{action}"
        try:
            result = await handler(ctx=auth_ctx, value=value)
        except Auth.exceptions.HTTPException as exc:
            raise _refusal(exc, Forbidden) from exc
        except AssertionError as exc:
            raise Forbidden(str(exc)) from exc
        except Exception as exc:  # user code: a bug of the deployment's
            log.exception("the auth handler for %s failed", where)
            raise Refused(500, f"the auth handler for {where} failed") from exc
        if result is None or result is True:
            return None
        if result is False:
            raise Forbidden("Forbidden")
        if not isinstance(result, Mapping):
            raise Refused(
                500,
                f"the auth handler for {where} returned a {type(result).__name__}; "
                "expected a filter dict, None or a boolean",
            )
        try:
            return containment(result) or None
        except UnsupportedFilter as exc:
            raise Refused(500, f"the auth handler for {where} returned a filter: {exc}") from exc

    def _handler(self, resource: str, action: str) -> Handler | None:
        """The most specific handler for ``resource``/``action`` (``None``: none), looked up
        once per pair."""
        key = (resource, action)
        if key not in self._handlers:
            registered = self.auth._handlers
            candidates = [key, (resource, "*"), ("*", action), ("*", "*")]
            found = [registered[k][-1] for k in candidates if registered.get(k)]
            found += self.auth._global_handlers[-1:]
            self._handlers[key] = found[0] if found else None
        return self._handlers[key]

    def _warn_unhandled(self) -> None:
        """Log the resource actions no handler answers (they are allowed unfiltered), as the
        official server does at start-up."""
        open_pairs = [
            f"{resource}.{action}"
            for resource, action in _resource_actions(self.auth)
            if self._handler(resource, action) is None
        ]
        if open_pairs:
            log.warning(
                "custom auth: no handler for %s; these are allowed to every authenticated "
                "user (add @auth.on to decide for all of them)",
                ", ".join(open_pairs),
            )


def _resource_actions(auth: Auth) -> list[tuple[str, str]]:
    """Every (resource, action) the SDK lets handlers register for."""
    pairs = []
    for resource in ("threads", "assistants", "crons", "store"):
        for attribute in vars(getattr(auth.on, resource)).values():
            action = getattr(attribute, "action", None)
            if isinstance(action, str):
                pairs.append((resource, action))
    return pairs


def _refusal(exc: Any, default: type[DomainError]) -> DomainError:
    """An ``Auth.exceptions.HTTPException`` as the error to answer: its status when it is
    one of 4xx or 5xx (else ``default``'s), its detail and headers."""
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    detail = str(exc.detail)
    if isinstance(exc.status_code, int) and 400 <= exc.status_code <= 599:
        return Refused(exc.status_code, detail, headers)
    return default(detail, headers)


def caller_of(result: Any) -> Caller:
    """The :class:`Caller` an ``@auth.authenticate`` result names (see the module's doc).
    Raises a 500 :class:`~shared.errors.Refused` for a result that names no user."""
    permissions: Any = ()
    user = result
    if isinstance(result, tuple) and len(result) == 2:
        permissions, user = result
    elif isinstance(result, Mapping):
        permissions = result.get("permissions", ())
    elif hasattr(result, "permissions"):
        permissions = result.permissions
    fields = _fields(user)
    identity = fields.pop("identity", None)
    if identity is None or isinstance(permissions, str) or not isinstance(permissions, Sequence):
        raise Refused(
            500,
            f"the @auth.authenticate function returned a {type(result).__name__}; expected an "
            "identity string, a dict with an 'identity', an object with an 'identity' "
            "attribute, or a (permissions, user) pair",
        )
    return Caller(
        identity=str(identity),
        display_name=str(fields.pop("display_name", None) or identity),
        permissions=tuple(str(p) for p in permissions),
        role=CUSTOM_AUTH_ROLE,
        extra=to_jsonable(fields),
    )


def _fields(user: Any) -> dict[str, Any]:
    """A user's fields: a string is its identity; a mapping is its fields; an object gives
    ``identity``, ``display_name``, ``is_authenticated`` and what its ``model_dump()`` or
    ``dict()`` returns."""
    if isinstance(user, str):
        return {"identity": user}
    if isinstance(user, Mapping):
        return dict(user)
    if not hasattr(user, "identity"):
        return {}
    fields = {
        "identity": user.identity,
        "is_authenticated": getattr(user, "is_authenticated", True),
        "display_name": getattr(user, "display_name", None),
    }
    if callable(getattr(user, "model_dump", None)):
        fields |= user.model_dump(mode="json")
    elif callable(getattr(user, "dict", None)):
        fields |= user.dict()
    return fields


_LOADED: dict[tuple[Path, ObjectRef], CustomAccess] = {}
"""Custom auth already imported in this process, by project file and ``auth.path``."""


def custom_access(project: ProjectConfig) -> CustomAccess | None:
    """The project's custom auth, imported once per process; ``None`` without ``auth``.
    Raises :class:`ConfigError` (see :meth:`CustomAccess.load`)."""
    if project.auth is None:
        return None
    key = (project.path, project.auth.ref)
    if key not in _LOADED:
        _LOADED[key] = CustomAccess.load(project)
    return _LOADED[key]
