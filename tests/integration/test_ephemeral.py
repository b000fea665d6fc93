"""``lg-deploy dev --ephemeral``: the embedded PostgreSQL in a temporary folder (fsync off) on
the same code path as ``dev``, serving runs, and nothing left behind after SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from tests.support import LG_DEPLOY, ROOT, postgres_dir, sdk, start


@pytest.fixture
def tmpdir_env() -> Iterator[Path]:
    """A fresh, empty ``$TMPDIR`` for the server (where its temporary folder goes)."""
    with postgres_dir("ephemeral") as path:
        yield path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_ephemeral_dev_serves_a_run_and_leaves_nothing_behind(
    tmpdir_env: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    server = start(
        "dev", log=tmp_path / "server.log", env={"TMPDIR": str(tmpdir_env)}, extra=["--ephemeral"]
    )
    try:
        postmaster, uri = _postmaster(tmpdir_env)
        with psycopg.connect(uri) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
        async with sdk(server) as client:
            thread = await client.threads.create()
            result = await client.runs.wait(thread["thread_id"], "echo", input={"items": []})
            assert result == {"items": ["one"]}
    finally:
        code = server.stop(sig)
    assert code == 0, server.log_text()[-3000:]
    assert _left_in(tmpdir_env) == []
    assert not _running(postmaster)  # its PostgreSQL stopped


def _postmaster(tmpdir: Path) -> tuple[int, str]:
    """The pid and libpq URI of the PostgreSQL in the only folder under ``tmpdir``."""
    [folder] = list(tmpdir.iterdir())
    assert folder.name.startswith("lg-deploy-ephemeral-")
    lines = (folder / "pgdata" / "postmaster.pid").read_text().splitlines()
    return int(lines[0]), f"postgresql://postgres@/postgres?host={lines[4]}&port={lines[3]}"


def _left_in(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_ephemeral_refuses_a_data_dir(tmp_path: Path) -> None:
    done = subprocess.run(
        [*LG_DEPLOY, "dev", "--ephemeral", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--ephemeral cannot go with --database-url or --data-dir" in done.stderr
