"""The user a graph sees (:mod:`shared.auth.user`) and the ``configurable`` keys a run's config
carries it in (:func:`shared.execution.run_config.run_config`), as the official server passes
them (langgraph-api 0.16: ``langgraph_auth_user`` a ``BaseUser`` read by attribute or key,
``langgraph_auth_user_id``, ``langgraph_auth_permissions``, ``user_id``)."""

from __future__ import annotations

import copy
import json
import pickle
import uuid
from typing import Any

import orjson
import pytest
from langgraph.runtime import ServerInfo
from langgraph_sdk.auth.types import BaseUser
from starlette import authentication

from shared.auth.context import Caller, RequestContext, open_context
from shared.auth.custom import caller_of
from shared.auth.user import AuthUser, auth_configurable
from shared.execution.run_config import run_config

ALICE = caller_of(
    {"identity": "alice", "display_name": "Alice", "permissions": ["read"], "org_id": "org-456"}
)


def test_the_user_reads_as_the_official_servers_by_attribute_and_by_key() -> None:
    user = AuthUser.of(ALICE)
    assert user is not None
    assert isinstance(user, BaseUser) and isinstance(user, authentication.BaseUser)
    assert dict(user) == {
        "identity": "alice",
        "is_authenticated": True,
        "display_name": "Alice",
        "permissions": ["read"],
        "org_id": "org-456",
    }
    assert (user.identity, user.display_name, user.is_authenticated) == ("alice", "Alice", True)
    assert (user.org_id, user["org_id"], user.get("org_id")) == ("org-456", "org-456", "org-456")
    assert user.permissions == ["read"] and user.dict() == dict(user)
    with pytest.raises(AttributeError, match="no field 'team'"):
        _ = user.team


def test_a_user_without_a_permissions_field_still_answers_its_permissions() -> None:
    user = AuthUser.of(caller_of((["p1"], "alice")))
    assert user is not None and "permissions" not in user and user.permissions == ["p1"]


def test_a_user_that_says_it_is_not_authenticated_stays_a_user() -> None:
    user = AuthUser.of(caller_of({"identity": "bot", "is_authenticated": False}))
    assert user is not None and user.is_authenticated is False and user["is_authenticated"] is False


def test_the_user_is_json_and_survives_copies_and_pickling() -> None:
    user = AuthUser.of(ALICE)
    assert json.loads(json.dumps(user)) == dict(user) == orjson.loads(orjson.dumps(user))
    for twin in (copy.deepcopy(user), pickle.loads(pickle.dumps(user))):
        assert isinstance(twin, AuthUser) and twin == user and twin.permissions == ["read"]


def test_an_anonymous_caller_is_no_user() -> None:
    assert AuthUser.of(open_context().caller) is None
    assert auth_configurable(open_context().caller) == {
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
    }


def row(request_context: Any, configurable: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``runs`` row as the executor reads it."""
    return {
        "run_id": uuid.uuid4(),
        "thread_id": uuid.uuid4(),
        "assistant_id": uuid.uuid4(),
        "metadata": {"graph_id": "g"},
        "kwargs": {"config": {"configurable": configurable or {}}},
        "attempt": 1,
        "request_context": request_context,
    }


def test_a_runs_config_carries_the_user_that_created_it() -> None:
    stored = json.loads(json.dumps(RequestContext("default", ALICE).to_json()))
    configurable = run_config(row(stored))["configurable"]
    user = configurable["langgraph_auth_user"]
    assert isinstance(user, AuthUser) and dict(user) == dict(AuthUser.of(ALICE) or {})
    assert configurable["langgraph_auth_user_id"] == "alice"
    assert configurable["langgraph_auth_permissions"] == ["read"]
    assert configurable["user_id"] == "alice"
    info = ServerInfo(assistant_id="a", graph_id="g", user=user)
    assert info.user is not None and info.user.identity == "alice"


def test_the_runs_own_user_id_and_auth_keys_it_was_given() -> None:
    """``user_id`` the run's config names stays; ``langgraph_auth_*`` keys a client sent are
    replaced by the server's."""
    stored = RequestContext("default", ALICE).to_json()
    given = {"user_id": "u-7", "langgraph_auth_user_id": "mallory"}
    configurable = run_config(row(stored, given))["configurable"]
    assert (configurable["user_id"], configurable["langgraph_auth_user_id"]) == ("u-7", "alice")


@pytest.mark.parametrize("stored", [None, {}], ids=["no context", "empty"])
def test_a_run_without_a_stored_context_runs_as_the_official_servers_anonymous(
    stored: Any,
) -> None:
    configurable = run_config(row(stored))["configurable"]
    assert {k: configurable[k] for k in auth_configurable(Caller("x")) | {"user_id": 0}} == {
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
        "user_id": "",
    }
