"""Crash: SIGKILL the whole ``lg-deploy dev`` process group mid-run, start it again.

Guarantees (research §2.3): G1 (an accepted run reaches a terminal state), G2 (a checkpointed
step is never run again; only the step in flight at the crash may rerun), G10 (recovery needs no
operator: stale leases and PostgreSQL lock files are handled, not reported as a crash).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.faults.helpers import (
    FAULT_ENV,
    STEP_NAMES,
    alarming_lines,
    assert_only_in_flight_reran,
    ledger_lines,
    start_steps_run,
)
from tests.support import sdk, start


def _kill_postgres_as_after_a_reboot(data: Path) -> None:
    """SIGKILL the embedded PostgreSQL (its own session), then make its lock files name a
    live process, as when the pid is reused after a reboot."""
    pgdata = data / "pgdata"
    pidfile = pgdata / "postmaster.pid"
    lines = pidfile.read_text().splitlines()
    os.killpg(int(lines[0]), signal.SIGKILL)
    socket_lock = Path(lines[4]) / f".s.PGSQL.{lines[3]}.lock"
    for lock in (pidfile, socket_lock):
        rest = lock.read_text().splitlines()[1:]
        lock.write_text("\n".join([str(os.getpid()), *rest]) + "\n")


async def _crash_mid_run_and_restart(
    tmp_path: Path, data: Path, ledger: Path, *, durability: str, kill_postgres: bool
) -> tuple[list[str], dict[str, Any], dict[str, Any], dict[str, Any], str]:
    """Start a 20-step run, crash after ~8 steps, restart and join it.

    Returns the ledger at the crash, the joined values, the run and thread after it, and the
    log of the restarted server.
    """
    first = start("dev", data_dir=data, log=tmp_path / "first.log", env=FAULT_ENV)
    try:
        async with sdk(first) as client:
            run = await start_steps_run(client, ledger, started=8, durability=durability)
    finally:
        first.kill_group()
    before_crash = ledger_lines(ledger)
    assert len(before_crash) < len(STEP_NAMES), "the run ended before the crash"
    if kill_postgres:
        _kill_postgres_as_after_a_reboot(data)

    second = start("dev", data_dir=data, log=tmp_path / "second.log", env=FAULT_ENV)
    try:
        async with sdk(second) as client:
            values = await client.runs.join(run["thread_id"], run["run_id"])
            run_after = await client.runs.get(run["thread_id"], run["run_id"])
            thread_after = await client.threads.get(run["thread_id"])
    finally:
        assert second.stop() == 0
    return before_crash, values, dict(run_after), dict(thread_after), second.log_text()


def _assert_resumed(
    ledger: Path, in_flight: list[str], values: dict[str, Any], run: dict[str, Any]
) -> None:
    assert run["status"] == "success"
    assert run["attempt"] == 2
    assert values == {"items": STEP_NAMES}
    assert_only_in_flight_reran(ledger, in_flight)


@pytest.mark.slow
@pytest.mark.parametrize("durability", ["sync", "async"])
async def test_run_killed_mid_way_resumes_after_restart_without_rerunning_steps(
    tmp_path: Path, data_dir: Path, ledger: Path, durability: str
) -> None:
    before_crash, values, run, thread, log = await _crash_mid_run_and_restart(
        tmp_path, data_dir, ledger, durability=durability, kill_postgres=False
    )
    # In flight at the crash: the last step started; with async durability also the step
    # before it, whose checkpoint is written while the next step runs.
    in_flight = before_crash[-1:] if durability == "sync" else before_crash[-2:]
    _assert_resumed(ledger, in_flight, values, run)
    assert thread["status"] == "idle"
    assert thread["values"] == {"items": STEP_NAMES}
    assert alarming_lines(log) == []


@pytest.mark.slow
async def test_restart_after_postgres_died_too_clears_stale_lock_files_and_resumes(
    tmp_path: Path, data_dir: Path, ledger: Path
) -> None:
    before_crash, values, run, thread, log = await _crash_mid_run_and_restart(
        tmp_path, data_dir, ledger, durability="sync", kill_postgres=True
    )
    _assert_resumed(ledger, before_crash[-1:], values, run)
    assert thread["values"] == {"items": STEP_NAMES}
    assert alarming_lines(log) == []
