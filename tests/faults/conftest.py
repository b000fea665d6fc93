"""Fixtures of the fault tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import postgres_dir


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """An empty ``--data-dir`` for one test's ``lg-deploy dev`` (see :func:`postgres_dir`)."""
    with postgres_dir("fault") as path:
        yield path / "data"
