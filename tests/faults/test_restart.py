"""Ctrl-C: ``lg-deploy dev`` stops cleanly and starts again on the same data, losing nothing.

Guarantees (research §2.3): G8 (a graceful stop hands running runs back at their last
checkpoint, with no lease wait), G10 (restart leaves no zombies), and the issue's "started again
on the same DIR, every assistant, thread, run and checkpoint is still there".
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from tests.faults.helpers import (
    FAULT_ENV,
    STEP_NAMES,
    alarming_lines,
    assert_only_in_flight_reran,
    ledger_lines,
    start_steps_run,
)
from tests.support import sdk, start


async def _everything(client: LangGraphClient) -> dict[str, Any]:
    """What the API shows of every assistant, thread, run and checkpoint."""
    assistants = await client.assistants.search(limit=100)
    threads = await client.threads.search(limit=100)
    seen: dict[str, Any] = {"assistants": assistants, "threads": threads, "versions": {}}
    for assistant in assistants:
        aid = assistant["assistant_id"]
        seen["versions"][aid] = await client.assistants.get_versions(aid, limit=100)
    for thread in threads:
        tid = thread["thread_id"]
        seen[tid] = {
            "runs": await client.runs.list(tid, limit=100),
            "state": await client.threads.get_state(tid),
            "history": await client.threads.get_history(tid, limit=100),
        }
    return seen


@pytest.mark.slow
async def test_ctrl_c_stops_cleanly_and_restart_keeps_every_record(
    tmp_path: Path, data_dir: Path
) -> None:
    first = start("dev", data_dir=data_dir, log=tmp_path / "first.log")
    try:
        async with sdk(first) as client:
            assistant = await client.assistants.create("echo", name="kept", metadata={"k": 1})
            await client.assistants.update(assistant["assistant_id"], metadata={"k": 2})
            done = await client.threads.create(metadata={"kind": "done"})
            await client.runs.wait(done["thread_id"], assistant["assistant_id"], input={})
            await client.runs.wait(done["thread_id"], "echo", input={"items": ["again"]})
            paused = await client.threads.create(metadata={"kind": "paused"})
            await client.runs.wait(paused["thread_id"], "human", input={"items": []})
            await client.threads.create(metadata={"kind": "empty"})
            before = await _everything(client)
    finally:
        code = first.stop(signal.SIGINT)
    assert code == 0, first.log_text()
    assert len(before["threads"]) == 3
    assert before[paused["thread_id"]]["state"]["next"] == ["ask"]

    second = start("dev", data_dir=data_dir, log=tmp_path / "second.log")
    try:
        async with sdk(second) as client:
            after = await _everything(client)
            # still a working thread: resume the paused one
            resumed = await client.runs.wait(
                paused["thread_id"], "human", command={"resume": "yes"}
            )
    finally:
        assert second.stop(signal.SIGINT) == 0
    assert after == before
    assert resumed == {"items": ["yes"]}
    assert alarming_lines(first.log_text() + second.log_text()) == []


@pytest.mark.slow
async def test_run_in_progress_at_ctrl_c_is_handed_back_and_finishes_after_restart(
    tmp_path: Path, data_dir: Path, ledger: Path
) -> None:
    first = start("dev", data_dir=data_dir, log=tmp_path / "first.log", env=FAULT_ENV)
    try:
        async with sdk(first) as client:
            run = await start_steps_run(client, ledger, started=5)
    finally:
        code = first.stop(signal.SIGINT)
    assert code == 0, first.log_text()
    at_stop = ledger_lines(ledger)
    assert len(at_stop) < len(STEP_NAMES), "the run ended before the stop"

    second = start("dev", data_dir=data_dir, log=tmp_path / "second.log", env=FAULT_ENV)
    try:
        async with sdk(second) as client:
            values = await client.runs.join(run["thread_id"], run["run_id"])
            run_after = await client.runs.get(run["thread_id"], run["run_id"])
    finally:
        assert second.stop(signal.SIGINT) == 0
    assert run_after["status"] == "success"
    assert values == {"items": STEP_NAMES}
    assert_only_in_flight_reran(ledger, at_stop[-1:])
    # handed back at the stop: the restart found no lease to expire
    assert "lease expired" not in second.log_text()
    assert alarming_lines(first.log_text() + second.log_text()) == []
