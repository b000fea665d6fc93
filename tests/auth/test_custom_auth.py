"""Custom auth (``langgraph.json`` ``auth.path``) through the official ``langgraph_sdk`` with
each user's headers, against ``lg-deploy dev`` serving the docs' examples unchanged
(tests/auth/project: owner-only threads, scoped handlers, permission-based access, store
namespaces per user). The expected answers are the official server's, except where
test_official_parity.py documents a difference.

Each project's scenario (:mod:`tests.auth.scenarios`) runs once per module on its own server;
each test checks one behaviour in its answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.auth.scenarios import OPEN_PATHS, PROJECT, PROJECTS, Answer, play
from tests.support import dev_server

Answers = dict[str, Answer]


@pytest.fixture(scope="module")
def answers() -> Iterator[Callable[[str], Answers]]:
    """``answers(project)``: the project's scenario played on its own ``lg-deploy dev``
    (started on first use, stopped after it)."""
    played: dict[str, Answers] = {}

    def get(project: str) -> Answers:
        if project not in played:
            config = PROJECT / PROJECTS[project][0]
            with dev_server("auth", config=config) as server:
                played[project] = asyncio.run(play(server.url, project))
        return played[project]

    yield get


def refused(status: int, detail: Any = None, **headers: str) -> Answer:
    return Answer(status, detail, tuple(headers.items()))


# --- authentication -------------------------------------------------------------------------


def test_a_request_without_credentials_is_refused_with_the_handlers_status_detail_and_headers(
    answers: Callable[[str], Answers],
) -> None:
    assert answers("permissions")["no token"] == refused(
        401, "Missing token", **{"www-authenticate": "Bearer"}
    )


def test_an_http_exception_of_any_status_keeps_its_status_detail_and_headers(
    answers: Callable[[str], Answers],
) -> None:
    assert answers("permissions")["locked token"] == refused(
        429, "Too many attempts", **{"retry-after": "30"}
    )
    assert answers("private")["unknown token"] == refused(401, "Invalid token")


def test_anything_else_authenticate_raises_is_401(answers: Callable[[str], Answers]) -> None:
    """The tutorial's ``assert authorization`` without a header, a ``KeyError`` for an unknown
    token."""
    assert answers("private")["no token"] == refused(401, "Unauthorized")
    assert answers("permissions")["unknown token"] == refused(401, "Unauthorized")


def test_health_docs_and_server_info_stay_open(answers: Callable[[str], Answers]) -> None:
    got = answers("permissions")
    assert {path: got[f"open {path}"].status for path in OPEN_PATHS} == dict.fromkeys(
        OPEN_PATHS, 200
    )


def test_the_api_description_declares_auth_openapi(answers: Callable[[str], Answers]) -> None:
    assert answers("permissions")["openapi"].data == {
        "securitySchemes": {
            "BearerAuth": {"type": "http", "scheme": "bearer"},
            "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        },
        "security": [{"BearerAuth": []}],
        "/threads/search post": [{"ApiKey": []}],
        "/threads post": None,
    }


# --- authorization --------------------------------------------------------------------------


def test_a_created_thread_gets_its_owner_in_metadata(answers: Callable[[str], Answers]) -> None:
    assert answers("private")["create"].data == {"topic": "pets", "owner": "user1"}
    assert answers("private")["owner reads"].data == {"topic": "pets", "owner": "user1"}
    assert answers("scoped")["create"].data == {"owner": "user1"}
    assert answers("permissions")["create"].data == {"topic": "plans", "owner": "writer"}


def test_another_users_thread_is_not_found(answers: Callable[[str], Answers]) -> None:
    """Read, update, state, run and delete of a thread the filter hides: 404, as officially."""
    private = answers("private")
    steps = ["other reads", "other updates", "other state", "other runs", "other deletes"]
    assert {step: private[step].status for step in steps} == dict.fromkeys(steps, 404)
    assert answers("scoped")["other reads"].status == 404
    assert answers("permissions")["other reads"].status == 404


def test_search_and_count_see_only_the_callers_threads(answers: Callable[[str], Answers]) -> None:
    private = answers("private")
    assert private["owner searches"].data == [{"topic": "pets", "owner": "user1"}]
    assert private["other searches"].data == []
    assert (private["owner counts"].data, private["other counts"].data) == (1, 0)
    assert answers("scoped")["owner searches"].data == [{"owner": "user1"}]


def test_runs_and_assistants_get_their_owner_and_are_filtered(
    answers: Callable[[str], Answers],
) -> None:
    """``add_owner`` answers ``threads.create_run`` and ``assistants.*`` too: the run and the
    assistant carry the owner; another user's search sees no assistant, not even the
    system ones (their metadata has no owner), as officially."""
    private = answers("private")
    assert private["run owners"].data == ["user1"]
    assert private["assistant create"].data == {"team": "a", "owner": "user1"}
    assert private["other assistants"].data == 0


def test_a_handlers_http_exception_refuses_with_its_status_and_detail(
    answers: Callable[[str], Answers],
) -> None:
    denied = refused(403, "User lacks the required permissions.")
    assert answers("scoped")["assistant create"] == denied
    assert answers("scoped")["assistant search"] == denied
    assert answers("permissions")["create without permission"] == refused(403, "Unauthorized")


def test_false_from_a_handler_is_403_forbidden(answers: Callable[[str], Answers]) -> None:
    """``deny_all`` (``@auth.on``) answers what no more specific handler does."""
    got = answers("permissions")
    steps = ["search denied", "update denied", "assistants denied", "crons denied"]
    assert {step: got[step] for step in steps} == dict.fromkeys(steps, refused(403, "Forbidden"))


def test_store_namespaces_are_the_users(answers: Callable[[str], Answers]) -> None:
    """``scope_store`` prefixes every namespace with the user's identity."""
    got = answers("permissions")
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
    answers: Callable[[str], Answers],
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
    got = answers("permissions")
    assert got["run"].data == expected
    assert got["stateless run"].data == expected


def test_a_minimal_user_reaches_the_graph_with_its_identity_only(
    answers: Callable[[str], Answers],
) -> None:
    assert answers("private")["owner runs"].data == {
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


def test_a_graph_factory_gets_the_runs_user(answers: Callable[[str], Answers]) -> None:
    expected = {"access": "threads.create_run"}
    assert answers("permissions")["factory"].data == {**expected, "factory_user": "writer"}
    assert answers("private")["factory"].data == {**expected, "factory_user": "user1"}
