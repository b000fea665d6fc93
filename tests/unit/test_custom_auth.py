"""Custom auth's logic (:mod:`shared.auth.custom`) over real ``langgraph_sdk.Auth`` objects:
what the ``@auth.authenticate`` function gets and how its result or exception becomes the
caller or the refusal, which handler answers an operation and how its answer becomes an
allowance, a refusal or a filter, and the start-up checks of ``auth.path``.

Sources: langgraph-api 0.16's custom auth (``langgraph_api/auth/custom.py``) and the SDK's
``Auth`` documentation; the API tests (tests/auth) show the same through a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import Auth
from pydantic import BaseModel
from starlette.datastructures import QueryParams
from starlette.requests import Request

from shared.auth.context import DEFAULT_TENANT, Caller, RequestContext, open_context
from shared.auth.custom import CUSTOM_AUTH_ROLE, CustomAccess, caller_of, custom_access
from shared.auth.user import AuthUser
from shared.errors import DomainError, Forbidden, Refused, Unauthorized
from shared.graphs.config import ConfigError, load_project_config

HTTPException = Auth.exceptions.HTTPException


def request(
    path: str = "/threads/search",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Request:
    """A request as intake's edge hands it to ``authenticate``."""
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": raw,
        "query_string": query.encode(),
        "root_path": "",
    }
    return Request(scope)


def access_with(authenticate: Callable[..., Any]) -> CustomAccess:
    auth = Auth()
    auth.authenticate(authenticate)
    return CustomAccess.of(auth)


def ctx_of(identity: str = "alice", permissions: tuple[str, ...] = ("read",)) -> RequestContext:
    extra = {"org_id": "org-1"}
    return RequestContext(
        DEFAULT_TENANT, Caller(identity, identity.title(), permissions, extra=extra)
    )


# --- authentication -------------------------------------------------------------------------


async def test_authenticate_gets_the_parameters_it_names_as_the_official_server_passes_them() -> (
    None
):
    got: dict[str, Any] = {}

    async def authenticate(
        request: Request,
        path: str,
        method: str,
        path_params: dict[str, str],
        query_params: QueryParams,
        headers: dict[bytes, bytes],
        authorization: str | None,
        scope: dict[str, Any],
        scopes: list[str],
        user: Any,
    ) -> str:
        got.update(locals())
        return "alice"

    access = access_with(authenticate)
    await access.authenticate(
        request("/threads/t1/runs", "GET", {"Authorization": "Bearer x", "X-A": "1"}, "a=1&a=2")
    )
    assert isinstance(got["request"], Request) and got["request"].url.path == "/threads/t1/runs"
    assert (got["path"], got["method"], got["path_params"]) == ("/threads/t1/runs", "GET", {})
    assert isinstance(got["query_params"], QueryParams)
    assert dict(got["query_params"]) == {"a": "2"} and got["query_params"].getlist("a") == [
        "1",
        "2",
    ]
    assert got["headers"] == {b"authorization": b"Bearer x", b"x-a": b"1"}
    assert got["authorization"] == "Bearer x"
    assert got["scope"]["path"] == "/threads/t1/runs"
    assert (got["scopes"], got["user"]) == ([], None)


async def test_authenticate_takes_only_what_it_names_and_may_be_sync() -> None:
    def authenticate(authorization: str | None, extra: int = 3) -> str:
        return f"{authorization}/{extra}"

    ctx = await access_with(authenticate).authenticate(request(headers={"Authorization": "t"}))
    assert ctx.caller.identity == "t/3"


async def test_the_body_cannot_be_read_in_authenticate_so_trying_is_401() -> None:
    async def authenticate(request: Request) -> str:
        return str(await request.json())

    with pytest.raises(Unauthorized):
        await access_with(authenticate).authenticate(request())


@pytest.mark.parametrize(
    ("result", "identity", "display_name", "permissions", "extra"),
    [
        ("alice", "alice", "alice", (), {}),
        ({"identity": "alice"}, "alice", "alice", (), {}),
        (
            {
                "identity": "alice",
                "display_name": "Alice",
                "permissions": ["read", "write"],
                "org_id": "org-456",
                "role": "superuser",
            },
            "alice",
            "Alice",
            ("read", "write"),
            {"permissions": ["read", "write"], "org_id": "org-456", "role": "superuser"},
        ),
        (
            {"identity": "bot", "is_authenticated": False},
            "bot",
            "bot",
            (),
            {"is_authenticated": False},
        ),
        ((["p1"], {"identity": "tup"}), "tup", "tup", ("p1",), {}),
        ((["p1"], "tup"), "tup", "tup", ("p1",), {}),
    ],
    ids=[
        "identity string",
        "minimal dict",
        "full dict",
        "not authenticated",
        "pair",
        "pair of str",
    ],
)
def test_authenticate_results_name_the_caller(
    result: Any, identity: str, display_name: str, permissions: tuple[str, ...], extra: Any
) -> None:
    caller = caller_of(result)
    assert (caller.identity, caller.display_name, caller.permissions) == (
        identity,
        display_name,
        permissions,
    )
    assert caller.extra == extra
    assert caller.is_authenticated and caller.role == CUSTOM_AUTH_ROLE


def test_a_user_object_gives_its_identity_permissions_and_dumped_fields() -> None:
    class User(BaseModel):
        identity: str
        permissions: list[str]
        team: str

    caller = caller_of(User(identity="alice", permissions=["read"], team="blue"))
    assert (caller.identity, caller.display_name, caller.permissions) == (
        "alice",
        "alice",
        ("read",),
    )
    assert caller.extra == {"is_authenticated": True, "permissions": ["read"], "team": "blue"}

    class Plain:
        identity = "bob"
        display_name = "Bob"

    assert (caller_of(Plain()).identity, caller_of(Plain()).display_name) == ("bob", "Bob")


def test_extra_fields_are_kept_as_json() -> None:
    from datetime import UTC, datetime

    caller = caller_of({"identity": "a", "since": datetime(2026, 1, 2, tzinfo=UTC)})
    assert json.dumps(caller.extra) == '{"since": "2026-01-02T00:00:00+00:00"}'


@pytest.mark.parametrize(
    "result",
    [None, 42, {"name": "no identity"}, {"identity": "a", "permissions": "read"}, (1, 2, 3)],
    ids=["None", "int", "dict without identity", "permissions a string", "triple"],
)
def test_a_result_that_names_no_user_is_a_500_naming_the_problem(result: Any) -> None:
    with pytest.raises(Refused) as caught:
        caller_of(result)
    assert caught.value.status == 500
    assert "expected an identity string" in caught.value.detail


@pytest.mark.parametrize(
    ("raised", "status", "detail", "headers"),
    [
        (
            HTTPException(401, "Invalid token", {"WWW-Authenticate": "Bearer"}),
            401,
            "Invalid token",
            {"WWW-Authenticate": "Bearer"},
        ),
        (HTTPException(), 401, "Unauthorized", {}),
        (HTTPException(403, "Suspended"), 403, "Suspended", {}),
        (
            HTTPException(429, "Slow down", {"Retry-After": "30"}),
            429,
            "Slow down",
            {"Retry-After": "30"},
        ),
        (
            HTTPException(302, "Elsewhere", {"Location": "/login"}),
            401,
            "Elsewhere",
            {"Location": "/login"},
        ),
        (KeyError("secret-token"), 401, "Unauthorized", {}),
        (AssertionError(), 401, "Unauthorized", {}),
        (ValueError("bad"), 401, "Unauthorized", {}),
    ],
    ids=[
        "401 with header",
        "default",
        "403",
        "429",
        "not an error status",
        "KeyError",
        "assert",
        "ValueError",
    ],
)
async def test_what_authenticate_raises_becomes_the_answer(
    raised: Exception, status: int, detail: str, headers: dict[str, str]
) -> None:
    async def authenticate() -> str:
        raise raised

    with pytest.raises(DomainError) as caught:
        await access_with(authenticate).authenticate(request())
    error = caught.value
    assert (error.status, error.detail, error.headers) == (status, detail, headers)


async def test_the_context_is_the_default_tenants_with_the_requests_traceparent() -> None:
    async def authenticate() -> dict[str, Any]:
        return {"identity": "alice", "permissions": ["read"]}

    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    ctx = await access_with(authenticate).authenticate(
        request(headers={"traceparent": traceparent})
    )
    assert (ctx.tenant_id, ctx.traceparent) == (DEFAULT_TENANT, traceparent)
    assert RequestContext.from_json(json.loads(json.dumps(ctx.to_json()))).caller == ctx.caller


# --- authorization --------------------------------------------------------------------------


def recording_auth() -> tuple[Auth, list[tuple[str, Any, Any]]]:
    """An ``Auth`` whose handlers record (name, ctx, value) and allow."""
    auth = Auth()
    seen: list[tuple[str, Any, Any]] = []

    def handler(name: str) -> Any:
        async def record(ctx: Auth.types.AuthContext, value: Any) -> None:
            seen.append((name, ctx, value))

        return record

    auth.authenticate(lambda: "x")
    auth.on(handler("global"))
    auth.on(resources=["*"], actions=["delete"])(handler("any delete"))
    auth.on.threads(handler("threads"))
    auth.on.threads.create(handler("threads.create"))
    auth.on.store.put(handler("store.put"))
    return auth, seen


@pytest.mark.parametrize(
    ("resource", "action", "handler"),
    [
        ("threads", "create", "threads.create"),
        ("threads", "read", "threads"),
        ("threads", "delete", "threads"),
        ("assistants", "delete", "any delete"),
        ("assistants", "read", "global"),
        ("store", "put", "store.put"),
        ("store", "get", "global"),
    ],
)
async def test_the_most_specific_handler_answers(resource: Any, action: Any, handler: str) -> None:
    auth, seen = recording_auth()
    await CustomAccess.of(auth).authorize(ctx_of(), resource, action, {})
    assert [name for name, _, _ in seen] == [handler]


async def test_no_handler_allows_unfiltered() -> None:
    auth = Auth()
    auth.authenticate(lambda: "x")
    auth.on.threads.create(_allow)
    access = CustomAccess.of(auth)
    assert await access.authorize(ctx_of(), "assistants", "read", {}) is None


async def _allow(ctx: Auth.types.AuthContext, value: Any) -> None:
    return None


async def test_the_handler_gets_the_sdks_auth_context_and_the_value_to_change() -> None:
    auth, seen = recording_auth()
    value: dict[str, Any] = {"thread_id": "t1", "metadata": {"a": 1}}
    await CustomAccess.of(auth).authorize(
        ctx_of("alice", ("read", "write")), "threads", "create", value
    )
    [(_, ctx, got)] = seen
    assert got is value
    assert isinstance(ctx, Auth.types.AuthContext)
    assert (ctx.resource, ctx.action, ctx.permissions) == ("threads", "create", ["read", "write"])
    user = ctx.user
    assert isinstance(user, AuthUser) and isinstance(user, Auth.types.BaseUser)
    assert (user.identity, user.display_name, user.is_authenticated) == ("alice", "Alice", True)
    assert user["identity"] == "alice" and user.org_id == "org-1"
    assert user.permissions == ["read", "write"]
    assert dict(user) == {
        "identity": "alice",
        "is_authenticated": True,
        "display_name": "Alice",
        "org_id": "org-1",
    }


async def test_a_handler_may_change_the_value_in_place() -> None:
    auth = Auth()
    auth.authenticate(lambda: "x")

    @auth.on.store
    async def scope_store(ctx: Auth.types.AuthContext, value: Any) -> None:
        value["namespace"] = (ctx.user.identity, *value["namespace"])

    @auth.on.threads.create
    async def owner(ctx: Auth.types.AuthContext, value: Any) -> None:
        value.setdefault("metadata", {})["owner"] = ctx.user.identity

    access = CustomAccess.of(auth)
    item = {"namespace": ("memories",), "key": "k"}
    thread: dict[str, Any] = {"thread_id": "t"}
    await access.authorize(ctx_of(), "store", "put", item)
    await access.authorize(ctx_of(), "threads", "create", thread)
    assert item["namespace"] == ("alice", "memories")
    assert thread["metadata"] == {"owner": "alice"}


def answering(result: Any) -> CustomAccess:
    auth = Auth()
    auth.authenticate(lambda: "x")

    @auth.on
    async def answer(ctx: Auth.types.AuthContext, value: Any) -> Any:
        if isinstance(result, BaseException):
            raise result
        return result

    return CustomAccess.of(auth)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (None, None),
        (True, None),
        ({}, None),
        ({"owner": "alice"}, {"owner": "alice"}),
        (
            {"owner": {"$eq": "alice"}, "members": {"$contains": "bob"}},
            {"owner": "alice", "members": ["bob"]},
        ),
    ],
    ids=["None", "True", "empty filter", "equality", "operators"],
)
async def test_allowances_and_filters(result: Any, expected: Any) -> None:
    assert await answering(result).authorize(ctx_of(), "threads", "read", {}) == expected


@pytest.mark.parametrize(
    ("result", "kind", "status", "detail", "headers"),
    [
        (False, Forbidden, 403, "Forbidden", {}),
        (AssertionError("not yours"), Forbidden, 403, "not yours", {}),
        (
            HTTPException(403, "User lacks the required permissions."),
            Refused,
            403,
            "User lacks the required permissions.",
            {},
        ),
        (HTTPException(404, "Gone", {"X-Why": "owner"}), Refused, 404, "Gone", {"X-Why": "owner"}),
        (HTTPException(200, "Fine?"), Forbidden, 403, "Fine?", {}),
        (RuntimeError("bug"), Refused, 500, "the auth handler for threads.read failed", {}),
        ("yes", Refused, 500, "returned a str; expected a filter dict, None or a boolean", {}),
        ({"$or": [{"a": 1}, {"a": 2}]}, Refused, 500, "returned a filter: operator '$or'", {}),
    ],
    ids=[
        "False",
        "assert",
        "HTTPException 403",
        "HTTPException 404",
        "not an error status",
        "bug",
        "not a filter",
        "$or",
    ],
)
async def test_refusals(
    result: Any, kind: type[DomainError], status: int, detail: str, headers: dict[str, str]
) -> None:
    with pytest.raises(kind) as caught:
        await answering(result).authorize(ctx_of(), "threads", "read", {})
    error = caught.value
    assert error.status == status and detail in error.detail and error.headers == headers


async def test_work_no_caller_asked_for_is_not_checked() -> None:
    """As the official server, which runs no handler without an auth context (the cron
    scheduler, a run stored before contexts existed)."""
    assert await answering(False).authorize(open_context(), "threads", "read", {}) is None


# --- start-up -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("auth = 42\n", "'auth' is a int, not a langgraph_sdk.Auth"),
        (
            "from langgraph_sdk import Auth\nauth = Auth()\n",
            "'auth' has no @auth.authenticate function",
        ),
        (
            "from langgraph_sdk import Auth\nauth = Auth()\n"
            "@auth.authenticate\nasync def who(token: str) -> str:\n    return token\n",
            "requires 'token'; it may take only request, path, method",
        ),
        (
            "from langgraph_sdk import Auth\nauth = Auth()\n"
            "@auth.authenticate\nasync def who(body: dict) -> str:\n    return 'x'\n",
            "requires 'body'",
        ),
        (
            "import lgd_no_such_module\n",
            "ModuleNotFoundError: No module named 'lgd_no_such_module'",
        ),
        ("x = 1\n", "variable 'auth' not found"),
    ],
    ids=["not an Auth", "no authenticate", "unknown parameter", "body", "import error", "missing"],
)
def test_an_auth_path_that_does_not_load_is_a_config_error_naming_it(
    tmp_path: Path, source: str, problem: str
) -> None:
    (tmp_path / "graphs.py").write_text("graph = None\n")
    (tmp_path / "auth.py").write_text(source)
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps({"graphs": {"g": "./graphs.py:graph"}, "auth": {"path": "./auth.py:auth"}})
    )
    with pytest.raises(ConfigError) as caught:
        custom_access(load_project_config(config))
    assert (caught.value.path, caught.value.key) == (config, "auth.path")
    assert problem in caught.value.problem


def test_the_auth_object_is_imported_once_per_process(tmp_path: Path) -> None:
    (tmp_path / "graphs.py").write_text("graph = None\n")
    (tmp_path / "auth.py").write_text(
        "from langgraph_sdk import Auth\nauth = Auth()\nauth.authenticate(lambda: 'x')\n"
    )
    config = tmp_path / "langgraph.json"
    config.write_text(
        json.dumps({"graphs": {"g": "./graphs.py:graph"}, "auth": {"path": "./auth.py:auth"}})
    )
    first = custom_access(load_project_config(config))
    assert first is not None and custom_access(load_project_config(config)) is first


def test_unanswered_actions_are_named_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    auth = Auth()
    auth.authenticate(lambda: "x")
    auth.on.threads(_allow)
    CustomAccess.of(auth)
    assert "no handler for" in caplog.text and "assistants.create" in caplog.text
    assert "store.put" in caplog.text and "threads.create" not in caplog.text
