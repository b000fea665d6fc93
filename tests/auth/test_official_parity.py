"""Custom auth on lg-deploy against the official server (``langgraph dev``, langgraph-api
0.16.7, which runs custom auth locally): the same ``auth.py`` files (tests/auth/project), the
same requests through the official ``langgraph_sdk`` (:mod:`tests.auth.scenarios`), the same
answers: statuses, refusal details, owners in metadata, what searches and counts return, what
the graph and its factory see of the user, store namespaces, open paths and the declared
security.

Compared: the status of every answer; the ``detail`` of every refusal but a 404 (whose wording
names the id its own way on each server); the data of every success. The deliberate
differences (:data:`DIFFERENCES`) are checked on both sides by a test of their own.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.auth.scenarios import PROJECTS, Answer, Played

DIFFERENCES: dict[tuple[str, str], str] = {
    ("private", "no token"): (
        "the tutorial's `assert authorization` fails: the official server answers 500 "
        "Internal Server Error (an uncaught AssertionError), lg-deploy 401 Unauthorized, "
        "as for anything else @auth.authenticate raises"
    ),
    ("permissions", "unknown token"): (
        "@auth.authenticate raises KeyError: official 500, lg-deploy 401 Unauthorized"
    ),
    ("permissions", "locked token"): (
        "Auth.exceptions.HTTPException(429, headers={'Retry-After': ...}) from "
        "@auth.authenticate: the official server answers only 401 and 403 that way (500 for "
        "any other status), lg-deploy answers every 4xx/5xx with its detail and headers"
    ),
    ("permissions", "no token"): (
        "HTTPException(401, headers={'WWW-Authenticate': 'Bearer'}) from @auth.authenticate: "
        "the official server drops the headers, lg-deploy sends them"
    ),
}
"""(project, step) → why lg-deploy answers differently."""


def comparable(answer: Answer) -> Answer:
    """``answer`` as compared: a 404's detail left out."""
    return replace(answer, detail=None) if answer.status == 404 else answer


@pytest.mark.parametrize("project", list(PROJECTS))
def test_the_same_requests_get_the_same_answers(
    project: str, lg_deploy: Played, official: Played
) -> None:
    ours, theirs = lg_deploy(project), official(project)
    assert list(ours) == list(theirs)
    steps = [step for step in ours if (project, step) not in DIFFERENCES]
    differing = {
        step: {"lg-deploy": ours[step], "official": theirs[step]}
        for step in steps
        if comparable(ours[step]) != comparable(theirs[step])
    }
    assert differing == {}


def test_the_documented_differences_are_what_each_server_answers(
    lg_deploy: Played, official: Played
) -> None:
    """Each difference of :data:`DIFFERENCES`, on both sides, so a change of either server
    shows here."""
    server_error = Answer(500, "Internal Server Error")
    got = {key: (lg_deploy(key[0])[key[1]], official(key[0])[key[1]]) for key in DIFFERENCES}
    assert got == {
        ("private", "no token"): (Answer(401, "Unauthorized"), server_error),
        ("permissions", "unknown token"): (Answer(401, "Unauthorized"), server_error),
        ("permissions", "locked token"): (
            Answer(429, "Too many attempts", (("retry-after", "30"),)),
            server_error,
        ),
        ("permissions", "no token"): (
            Answer(401, "Missing token", (("www-authenticate", "Bearer"),)),
            Answer(401, "Missing token"),
        ),
    }
