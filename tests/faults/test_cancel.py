"""Cancel is durable and truthful: what the API reports after a cancel is what PostgreSQL holds.

Guarantee (research §2.3): G9. ``interrupt`` stops a running run at its last checkpoint (the
thread is ``interrupted`` and its unfinished step is next); ``rollback`` deletes the run and
the checkpoints it wrote, so the thread is back where it was before the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from tests.faults.helpers import eventually, ledger_lines

SLOW = {"configurable": {"sleep": 1.0}}
"""The ``slow`` graph with 1 s steps: long enough to cancel in the middle of step 2."""


async def _start_slow_run_and_wait_for_step_one(
    client: LangGraphClient, thread_id: str, items: list[str]
) -> dict[str, Any]:
    run = await client.runs.create(thread_id, "slow", input={"items": []}, config=SLOW)

    async def step_one_checkpointed() -> bool:
        state = await client.threads.get_state(thread_id)
        return state["values"].get("items") == [*items, "nap"]

    await eventually(step_one_checkpointed, within=30, what="step 1 to be checkpointed")
    return dict(run)


async def test_cancel_interrupt_stops_a_running_run_at_its_last_checkpoint(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await _start_slow_run_and_wait_for_step_one(client, tid, [])

    await client.runs.cancel(tid, run["run_id"], wait=True, action="interrupt")

    after = await client.runs.get(tid, run["run_id"])
    assert after["status"] == "interrupted"
    thread_after = await client.threads.get(tid)
    assert thread_after["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["values"] == {"items": ["nap"]}
    assert state["next"] == ["step_2"]


async def test_cancel_rollback_deletes_the_run_and_restores_the_thread(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "slow", input={"items": []}, config={"configurable": {"sleep": 0}})
    thread_before = await client.threads.get(tid)
    state_before = await client.threads.get_state(tid)
    history_before = await client.threads.get_history(tid, limit=100)
    run = await _start_slow_run_and_wait_for_step_one(client, tid, ["nap"] * 3)

    await client.runs.cancel(tid, run["run_id"], wait=True, action="rollback")

    with pytest.raises(NotFoundError):
        await client.runs.get(tid, run["run_id"])
    thread_after = await client.threads.get(tid)
    assert thread_after["status"] == "idle"
    assert thread_after["values"] == thread_before["values"] == {"items": ["nap"] * 3}
    assert await client.threads.get_state(tid) == state_before
    assert await client.threads.get_history(tid, limit=100) == history_before
    assert run["run_id"] not in {r["run_id"] for r in await client.runs.list(tid)}


async def _cancel_while_napping(
    client: LangGraphClient, ledger: Path, configurable: dict[str, Any]
) -> tuple[str, str]:
    """Start the ``stubborn`` graph, cancel it (waiting) once its node naps; its ids."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    config = {"configurable": {"ledger": str(ledger), **configurable}}
    run = await client.runs.create(tid, "stubborn", input={"items": []}, config=config)
    await eventually(lambda: ledger_lines(ledger), within=30, what="the node to nap")
    await client.runs.cancel(tid, run["run_id"], wait=True)
    return tid, run["run_id"]


async def test_a_cancel_the_graph_swallowed_is_sent_again(
    client: LangGraphClient, ledger: Path
) -> None:
    """A node that swallows the first cancel (as ``langchain_openai``'s stream does on
    Python 3.11 when it lands as a chunk arrives) is stopped by the next one: the run is
    ``interrupted`` and the node never finished (it would nap 30 s)."""
    tid, run_id = await _cancel_while_napping(client, ledger, {"swallow": 1, "sleep": 30})

    assert (await client.runs.get(tid, run_id))["status"] == "interrupted"
    assert (await client.threads.get_state(tid))["values"] == {"items": []}


async def test_a_graph_that_swallows_every_cancel_still_ends_interrupted(
    client: LangGraphClient, ledger: Path
) -> None:
    """A run cancelled while running never ends ``success``, even when its graph ignores
    every cancel and runs to its end."""
    tid, run_id = await _cancel_while_napping(client, ledger, {"swallow": 1000, "sleep": 3})

    assert (await client.runs.get(tid, run_id))["status"] == "interrupted"
    assert (await client.threads.get_state(tid))["values"] == {"items": ["stubborn"]}
