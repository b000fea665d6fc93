"""Credentials that must be checked in PostgreSQL while it is down: ``503`` with
``Retry-After`` and a JSON ``detail`` (the client may retry), never a 500; keys already known
to the process keep working from its cache, and everything works again once PostgreSQL is
back."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.faults.conftest import OwnPostgres
from tests.support import LG_DEPLOY, ROOT, start


def _create_key(url: str) -> str:
    done = subprocess.run(
        [*LG_DEPLOY, "keys", "create", "--tenant", "default", "--role", "admin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "LG_DEPLOY_DATABASE_URL": url},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def _search(url: str, key: str) -> httpx.Response:
    return httpx.post(url + "/threads/search", json={}, headers={"X-Api-Key": key}, timeout=30)


def test_a_key_lookup_while_postgres_is_down_is_503(postgres: OwnPostgres, tmp_path: Path) -> None:
    key = _create_key(postgres.url)
    server = start(
        "dev",
        database_url=postgres.url,
        log=tmp_path / "server.log",
        env={"LG_DEPLOY_API_KEY_CACHE_SECONDS": "60"},
    )
    try:
        deadline = time.monotonic() + 30
        while _search(server.url, "lgd_unknown").status_code != 401:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert _search(server.url, key).status_code == 200  # now in the process's cache
        postgres.stop()
        try:
            refused = _search(server.url, "lgd_never_seen")
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            assert "database" in refused.json()["detail"]
        finally:
            postgres.start()
        deadline = time.monotonic() + 30
        while _search(server.url, key).status_code != 200:
            assert time.monotonic() < deadline, "not back after PostgreSQL returned"
            time.sleep(0.5)
    finally:
        server.stop()
