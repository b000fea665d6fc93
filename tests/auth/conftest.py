"""Fixtures: the integration tests' embedded PostgreSQL (``database_url``), one per session;
the answers of each custom auth scenario (:mod:`tests.auth.scenarios`), played once per session
on ``lg-deploy dev`` and, for the parity test, on the official ``langgraph dev`` (each
project's server runs only while its scenario plays)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from tests.auth.scenarios import PROJECT, PROJECTS, Answers, Played, play
from tests.ecosystem.official import QUIET, official_server
from tests.integration.conftest import database_url  # noqa: F401  (re-exported fixture)
from tests.support import Server, dev_server


def _player(start: Callable[[str], AbstractContextManager[Server]]) -> Played:
    played: dict[str, Answers] = {}

    def answers(project: str) -> Answers:
        if project not in played:
            with start(PROJECTS[project][0]) as server:
                played[project] = asyncio.run(play(server.url, project))
        return played[project]

    return answers


@pytest.fixture(scope="session")
def lg_deploy() -> Played:
    """``lg_deploy(project)``: the project's answers from ``lg-deploy dev``."""
    return _player(lambda config: dev_server("auth", config=PROJECT / config, env=QUIET))


@pytest.fixture(scope="session")
def official() -> Played:
    """``official(project)``: the project's answers from the official server."""
    return _player(lambda config: official_server(PROJECT, {}, config))
