"""A stateless run's temporary thread goes when the run ends, also when the process running
it died: the restarted executor resumes the run and removes the thread at its end, and the
sweep removes what a reader that died with the process left behind."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.faults.helpers import FAULT_ENV, eventually, ledger_lines
from tests.support import start

STEPS = {"configurable": {"sleep": 0.2}}


async def _thread_gone(url: str, thread_id: str) -> bool:
    async with httpx.AsyncClient(base_url=url) as http:
        return (await http.get(f"/threads/{thread_id}")).status_code == 404


async def test_a_stateless_threads_goes_at_the_end_of_a_run_resumed_after_a_crash(
    data_dir: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.txt"
    config = {"configurable": {"sleep": 0.2, "ledger": str(ledger)}}
    env = {**FAULT_ENV, "LG_DEPLOY_TEMPORARY_THREAD_GRACE_SECONDS": "3"}
    first = start("dev", data_dir=data_dir, log=tmp_path / "first.log", env=env)
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            background = (
                await http.post(
                    "/runs", json={"assistant_id": "steps", "input": {}, "config": config}
                )
            ).json()
            # a stateless wait whose reader dies with the process (its headers name the thread)
            request = http.build_request(
                "POST", "/runs/wait", json={"assistant_id": "steps", "input": {}, "config": STEPS}
            )
            waiting = await http.send(request, stream=True)
            orphan = waiting.headers["content-location"].split("/")[2]
            await eventually(lambda: len(ledger_lines(ledger)) >= 4, within=30, what="4 steps")
    finally:
        first.kill_group()
    second = start("dev", data_dir=data_dir, log=tmp_path / "second.log", env=env)
    try:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
            # the resumed background run (16 more steps, ~3 s) removes its thread at its end
            thread_id = background["thread_id"]
            await eventually(
                lambda: _thread_gone(second.url, thread_id), within=20, what="the thread to go"
            )
            assert len(ledger_lines(ledger)) >= 20  # it did run to its end first
            # the orphaned wait's run resumes too; nobody reads it now, so the sweep removes
            # its thread once the grace for readers (3 s here) has passed after its end
            await eventually(
                lambda: _thread_gone(second.url, orphan), within=30, what="the orphan to go"
            )
    finally:
        assert second.stop() == 0
