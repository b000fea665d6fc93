"""Fixtures: the integration tests' embedded PostgreSQL (``database_url``), one per session."""

from tests.integration.conftest import database_url  # noqa: F401  (re-exported fixture)
