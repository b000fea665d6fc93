"""Permission-based access as the docs show it, handlers unchanged: deny by default
(``langgraph_sdk.auth.types.on``'s reference example), thread creation and reads by permission
(concepts/auth.md, "Permission-based Access"), runs owned by their creator (its
"Resource-Specific Handlers"), and store namespaces per user (the ``Auth`` class reference).

The docs leave the ``@auth.authenticate`` body out (``...``); this one looks tokens up in a
table and returns the users' permissions and a custom field (``org_id``), answers a missing
token with 401 and ``WWW-Authenticate``, a locked one with 429 and ``Retry-After``, and an
unknown one with ``KeyError``. Annotations are left unevaluated (``from __future__ import
annotations``): two of the docs' (``Auth.on.value``, ``Auth.types.threads``) name attributes the
SDK does not have."""

from __future__ import annotations

from langgraph_sdk import Auth

auth = Auth()

USERS = {
    "writer-token": {
        "identity": "writer",
        "display_name": "Wanda Writer",
        "permissions": ["threads:write", "threads:read"],
        "org_id": "org-456",
    },
    "reader-token": {
        "identity": "reader",
        "display_name": "Rita Reader",
        "permissions": ["threads:read"],
        "org_id": "org-456",
    },
}


@auth.authenticate
async def authenticate(headers: dict) -> Auth.types.MinimalUserDict:
    authorization = headers.get(b"authorization")
    if not authorization:
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="Missing token", headers={"WWW-Authenticate": "Bearer"}
        )
    token = authorization.decode().removeprefix("Bearer ")
    if token == "locked-token":
        raise Auth.exceptions.HTTPException(
            status_code=429, detail="Too many attempts", headers={"Retry-After": "30"}
        )
    return USERS[token]


# Default deny: reject all requests without a specific handler
@auth.on
async def deny_all(ctx: Auth.types.AuthContext, value: Auth.on.value):
    return False


def _default(ctx: Auth.types.AuthContext, value: dict):
    metadata = value.setdefault("metadata", {})
    metadata["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}


@auth.on.threads.create
async def create_thread(ctx: Auth.types.AuthContext, value: dict):
    if "threads:write" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="Unauthorized")
    return _default(ctx, value)


@auth.on.threads.read
async def rbac_create(ctx: Auth.types.AuthContext, value: dict):
    if "threads:read" not in ctx.permissions and "threads:write" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="Unauthorized")
    return _default(ctx, value)


# Run creation, streaming, updates, etc.
# This takes precendence over the generic @auth.on handler and the @auth.on.threads handler
@auth.on.threads.create_run
async def on_run_create(ctx: Auth.types.AuthContext, value: Auth.types.threads.create_run.value):
    metadata = value.setdefault("metadata", {})
    metadata["owner"] = ctx.user.identity
    # Inherit thread's access control
    return {"owner": ctx.user.identity}


@auth.on.store
async def scope_store(ctx: Auth.types.AuthContext, value: Auth.types.on.store.value):
    namespace = tuple(value["namespace"]) if value.get("namespace") else ()
    if not namespace or namespace[0] != ctx.user.identity:
        namespace = (ctx.user.identity, *namespace)
    value["namespace"] = namespace
