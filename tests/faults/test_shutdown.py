"""Shutdown under load: after 32 clients created and waited on runs and streamed, with waits,
streams and a graph node stuck in its worker thread still open, SIGTERM stops ``lg-deploy dev``
within the stop time (its embedded PostgreSQL too), and a second signal exits at once.

Before the fix the process stayed up after SIGTERM (twice out of two tries after the
benchmark): the event loop's shutdown waited for the stuck worker thread, and the signal
handlers were the loop's, so a second signal did nothing either.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient

from functions.signals import STOP_SECONDS
from tests.support import TEST_GRAPHS, Server, sdk, start

STUCK_PY = """
import time
from typing import TypedDict

from langgraph.graph import START, StateGraph


class State(TypedDict, total=False):
    done: bool


def wait_forever(state: State) -> State:
    time.sleep(600)  # a blocking call without a timeout, in LangGraph's worker thread
    return {"done": True}


builder = StateGraph(State)
builder.add_node("wait_forever", wait_forever)
builder.add_edge(START, "wait_forever")
stuck = builder.compile()
"""
SLOW = {"configurable": {"sleep": 30}}


@pytest.fixture
def loaded_project(tmp_path: Path) -> Path:
    """The test graphs ``echo``, ``emitter`` and ``slow`` plus ``stuck`` (a sync node that
    never returns)."""
    (tmp_path / "stuck.py").write_text(STUCK_PY)
    graphs = TEST_GRAPHS.parent / "graphs.py"
    config = {
        "dependencies": [str(TEST_GRAPHS.parent), "."],
        "graphs": {
            **{name: f"{graphs}:{name}" for name in ("echo", "emitter", "slow")},
            "stuck": "./stuck.py:stuck",
        },
    }
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def server(loaded_project: Path, data_dir: Path, tmp_path: Path) -> Iterator[Server]:
    """``lg-deploy dev`` on :func:`loaded_project`; killed if a test leaves it running."""
    srv = start("dev", config=loaded_project, data_dir=data_dir, log=tmp_path / "server.log")
    yield srv
    if srv.proc.poll() is None:
        srv.kill_group()


async def _load(client: LangGraphClient, rounds: int) -> None:
    """32 clients creating threads and waiting on runs, then 32 streams."""

    async def waiter() -> None:
        for _ in range(rounds):
            thread = await client.threads.create()
            await client.runs.wait(thread["thread_id"], "echo", input={"items": []})

    async def streamer() -> None:
        thread = await client.threads.create()
        count = {"configurable": {"count": 200}}
        async for _ in client.runs.stream(
            thread["thread_id"], "emitter", input={}, stream_mode="custom", config=count
        ):
            pass

    await asyncio.gather(*(waiter() for _ in range(32)))
    await asyncio.gather(*(streamer() for _ in range(32)))


async def _hold_open(client: LangGraphClient) -> list[asyncio.Task[Any]]:
    """Waits and streams still open on 30 s runs, and a run stuck in a worker thread."""

    async def wait() -> None:
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "slow", input={}, config=SLOW)

    async def stream() -> None:
        thread = await client.threads.create()
        async for _ in client.runs.stream(thread["thread_id"], "slow", input={}, config=SLOW):
            pass

    stuck = await client.threads.create()
    await client.runs.create(stuck["thread_id"], "stuck", input={})
    tasks = [asyncio.create_task(wait()) for _ in range(4)]
    tasks += [asyncio.create_task(stream()) for _ in range(4)]
    await asyncio.sleep(1.5)  # the runs started, the connections are open
    return tasks


async def _exit_after(server: Server, *signals: signal.Signals, within: float) -> float:
    """Send ``signals`` to the process (0.2 s apart); seconds until it exited. Fails if it
    is still running ``within`` seconds after the first."""
    started = time.monotonic()
    for i, sig in enumerate(signals):
        if i:
            await asyncio.sleep(0.2)
        server.proc.send_signal(sig)
    try:
        await asyncio.to_thread(server.proc.wait, within)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {within}s after {signals}:\n{server.log_text()[-3000:]}")
    return time.monotonic() - started


async def test_sigterm_after_load_stops_within_the_stop_time(server: Server) -> None:
    async with sdk(server) as client:
        await _load(client, rounds=3)
        open_requests = await _hold_open(client)
        seconds = await _exit_after(server, signal.SIGTERM, within=STOP_SECONDS + 5)
        for task in open_requests:
            task.cancel()
        await asyncio.gather(*open_requests, return_exceptions=True)
    assert server.proc.returncode == 0, server.log_text()[-3000:]
    assert seconds < STOP_SECONDS
    assert server.data_dir is not None
    assert not (server.data_dir / "pgdata" / "postmaster.pid").exists()  # PostgreSQL stopped


async def test_a_second_signal_exits_at_once(server: Server) -> None:
    async with sdk(server) as client:
        await _load(client, rounds=1)
        open_requests = await _hold_open(client)
        seconds = await _exit_after(server, signal.SIGTERM, signal.SIGTERM, within=3.0)
        for task in open_requests:
            task.cancel()
        await asyncio.gather(*open_requests, return_exceptions=True)
    assert server.proc.returncode == 128 + signal.SIGTERM
    assert seconds < 3.0
    assert "second SIGTERM: exiting now" in server.log_text()
