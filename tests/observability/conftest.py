"""Fixtures of the observability tests: one ``lg-deploy up`` for the session (the metrics
that only a topology has, and the real Prometheus scraping it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.observability.support import Up, up_topology

UP_ENV = {"LG_DEPLOY_N_JOBS": "1"}
"""One slot in the one executor: a single long run saturates it and queues the next."""


@pytest.fixture(scope="session")
def up() -> Iterator[Up]:
    """``lg-deploy up`` with one executor of one slot (tests/observability/support.py)."""
    with up_topology("observability", UP_ENV) as topology:
        yield topology
