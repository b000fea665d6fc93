"""Custom auth (``langgraph.json`` ``auth.path``) through the official ``langgraph_sdk`` with
each user's headers, against ``lg-deploy dev`` serving the docs' examples unchanged
(tests/auth/project: owner-only threads, scoped handlers, permission-based access, store
namespaces per user). The expected answers are the official server's, except where
test_official_parity.py documents a difference.

Each project's scenario (:mod:`tests.auth.scenarios`) runs once per session on its own server
(:mod:`tests.auth.conftest`); each test checks one behaviour in its answers."""

from __future__ import annotations

from typing import Any

from tests.auth.scenarios import OPEN_PATHS, Answer, Played


def refused(status: int, detail: Any = None, **headers: str) -> Answer:
    return Answer(status, detail, tuple(headers.items()))


# --- authentication -------------------------------------------------------------------------


def test_a_request_without_credentials_is_refused_with_the_handlers_status_detail_and_headers(
    lg_deploy: Played,
) -> None:
    assert lg_deploy("permissions")["no token"] == refused(
        401, "Missing token", **{"www-authenticate": "Bearer"}
    )


def test_an_http_exception_of_any_status_keeps_its_status_detail_and_headers(
    lg_deploy: Played,
) -> None:
    assert lg_deploy("permissions")["locked token"] == refused(
        429, "Too many attempts", **{"retry-after": "30"}
    )
    assert lg_deploy("private")["unknown token"] == refused(401, "Invalid token")


def test_anything_else_authenticate_raises_is_401(lg_deploy: Played) -> None:
    """The tutorial's ``assert authorization`` without a header, a ``KeyError`` for an unknown
    token."""
    assert lg_deploy("private")["no token"] == refused(401, "Unauthorized")
    assert lg_deploy("permissions")["unknown token"] == refused(401, "Unauthorized")


def test_health_docs_and_server_info_stay_open(lg_deploy: Played) -> None:
    got = lg_deploy("permissions")
    assert {path: got[f"open {path}"].status for path in OPEN_PATHS} == dict.fromkeys(
        OPEN_PATHS, 200
    )


def test_the_api_description_declares_auth_openapi(lg_deploy: Played) -> None:
    assert lg_deploy("permissions")["openapi"].data == {
        "securitySchemes": {
            "BearerAuth": {"type": "http", "scheme": "bearer"},
            "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        },
        "security": [{"BearerAuth": []}],
        "/threads/search post": [{"ApiKey": []}],
        "/threads post": None,
    }


# --- authorization --------------------------------------------------------------------------


def test_a_created_thread_gets_its_owner_in_metadata(lg_deploy: Played) -> None:
    assert lg_deploy("private")["create"].data == {"topic": "pets", "owner": "user1"}
    assert lg_deploy("private")["owner reads"].data == {"topic": "pets", "owner": "user1"}
    assert lg_deploy("scoped")["create"].data == {"owner": "user1"}
    assert lg_deploy("permissions")["create"].data == {"topic": "plans", "owner": "writer"}


def test_another_users_thread_is_not_found(lg_deploy: Played) -> None:
    """Read, update, state, run and delete of a thread the filter hides: 404, as officially."""
    private = lg_deploy("private")
    steps = [
        "other reads",
        "other updates",
        "other state",
        "other runs",
        "other deletes",
        "other joins",  # the thread is checked before the join, as officially: not __error__
    ]
    assert {step: private[step].status for step in steps} == dict.fromkeys(steps, 404)
    assert lg_deploy("scoped")["other reads"].status == 404
    assert lg_deploy("permissions")["other reads"].status == 404


def test_search_and_count_see_only_the_callers_threads(lg_deploy: Played) -> None:
    private = lg_deploy("private")
    assert private["owner searches"].data == [{"topic": "pets", "owner": "user1"}]
    assert private["other searches"].data == []
    assert (private["owner counts"].data, private["other counts"].data) == (1, 0)
    assert lg_deploy("scoped")["owner searches"].data == [{"owner": "user1"}]


def test_runs_and_assistants_get_their_owner_and_are_filtered(
    lg_deploy: Played,
) -> None:
    """``add_owner`` answers ``threads.create_run`` and ``assistants.*`` too: the run and the
    assistant carry the owner; another user's search sees no assistant, not even the
    system ones (their metadata has no owner), as officially."""
    private = lg_deploy("private")
    assert private["run owners"].data == ["user1"]
    assert private["assistant create"].data == {"team": "a", "owner": "user1"}
    assert private["other assistants"].data == 0


def test_a_handlers_http_exception_refuses_with_its_status_and_detail(
    lg_deploy: Played,
) -> None:
    denied = refused(403, "User lacks the required permissions.")
    assert lg_deploy("scoped")["assistant create"] == denied
    assert lg_deploy("scoped")["assistant search"] == denied
    assert lg_deploy("permissions")["create without permission"] == refused(403, "Unauthorized")


def test_false_from_a_handler_is_403_forbidden(lg_deploy: Played) -> None:
    """``deny_all`` (``@auth.on``) answers what no more specific handler does."""
    got = lg_deploy("permissions")
    steps = ["search denied", "update denied", "assistants denied", "crons denied"]
    assert {step: got[step] for step in steps} == dict.fromkeys(steps, refused(403, "Forbidden"))


def test_store_namespaces_are_the_users(lg_deploy: Played) -> None:
    """``scope_store`` prefixes every namespace with the user's identity."""
    got = lg_deploy("permissions")
    mine = {"namespace": ["writer", "memories"], "value": {"v": 1}}
    assert got["store put"].status == 200
    assert got["store get"].data == mine
    assert got["store other get"].data is None
    assert got["store search"].data == [mine]
    assert got["store namespaces"].data == [["writer", "memories"]]


# --- the user in the graph ------------------------------------------------------------------

WRITER = {
    "identity": "writer",
    "is_authenticated": True,
    "display_name": "Wanda Writer",
    "permissions": ["threads:write", "threads:read"],
    "org_id": "org-456",
}


def test_the_graph_sees_the_user_as_the_official_server_passes_it(
    lg_deploy: Played,
) -> None:
    """``config["configurable"]``: ``langgraph_auth_user`` (read by key and by attribute,
    extra fields too; ``Runtime.server_info.user``), ``langgraph_auth_user_id``,
    ``langgraph_auth_permissions``, ``user_id``; in stateful and stateless runs."""
    expected = {
        "langgraph_auth_user_id": "writer",
        "langgraph_auth_permissions": ["threads:write", "threads:read"],
        "user_id": "writer",
        "user": WRITER,
        "attributes": {
            "identity": "writer",
            "display_name": "Wanda Writer",
            "is_authenticated": True,
            "org_id": "org-456",
        },
        "item": "writer",
        "server_info_user": "writer",
    }
    got = lg_deploy("permissions")
    assert got["run"].data == expected
    assert got["stateless run"].data == expected


def test_a_minimal_user_reaches_the_graph_with_its_identity_only(
    lg_deploy: Played,
) -> None:
    assert lg_deploy("private")["owner runs"].data == {
        "langgraph_auth_user_id": "user1",
        "langgraph_auth_permissions": [],
        "user_id": "user1",
        "user": {"identity": "user1", "is_authenticated": True, "display_name": "user1"},
        "attributes": {
            "identity": "user1",
            "display_name": "user1",
            "is_authenticated": True,
            "org_id": None,
        },
        "item": "user1",
        "server_info_user": "user1",
    }


def test_a_graph_factory_gets_the_runs_user(lg_deploy: Played) -> None:
    expected = {"access": "threads.create_run"}
    assert lg_deploy("permissions")["factory"].data == {**expected, "factory_user": "writer"}
    assert lg_deploy("private")["factory"].data == {**expected, "factory_user": "user1"}
