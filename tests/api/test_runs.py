"""Runs on a thread through the official SDK: lifecycle, multitask strategies, cancel, options.

Source of the expected behaviour: Agent Server API, "Runs on a thread", "multitask_strategy",
"Cancel", "Run statuses", "Thread statuses".
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

SLOW = {"configurable": {"sleep": 0.3}}


async def _thread(client: LangGraphClient, **kw: Any) -> str:
    return str((await client.threads.create(**kw))["thread_id"])


async def _status_soon(client: LangGraphClient, tid: str, rid: str, wanted: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            run = await client.runs.get(tid, rid)
            if run["status"] == wanted:
                return dict(run)
            await asyncio.sleep(0.05)


async def test_background_run_goes_pending_to_success(client: LangGraphClient) -> None:
    tid = await _thread(client)
    run = await client.runs.create(tid, "echo", input={"items": ["a"]}, metadata={"k": "v"})
    assert run["status"] in ("pending", "running", "success")
    assert run["metadata"]["k"] == "v" and run["metadata"]["graph_id"] == "echo"
    assert await client.runs.join(tid, run["run_id"]) == {"items": ["a", "one"]}
    done = await client.runs.get(tid, run["run_id"])
    assert done["status"] == "success"
    assert done["kwargs"]["input"] == {"items": ["a"]}
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert thread["metadata"]["graph_id"] == "echo"
    assert thread["values"] == {"items": ["a", "one"]}


async def test_runs_list_newest_first_with_status_filter(client: LangGraphClient) -> None:
    tid = await _thread(client)
    first = await client.runs.wait(tid, "fail", input={}, raise_error=False)
    assert first["__error__"]["error"] == "ValueError"
    await client.runs.wait(tid, "echo", input={})
    runs = await client.runs.list(tid)
    assert [r["status"] for r in runs] == ["success", "error"]
    errors = await client.runs.list(tid, status="error")
    assert len(errors) == 1 and errors[0]["assistant_id"] != runs[0]["assistant_id"]


async def test_failed_run_sets_thread_error_and_next_success_clears_it(
    client: LangGraphClient,
) -> None:
    tid = await _thread(client)
    await client.runs.wait(tid, "fail", input={}, raise_error=False)
    thread = await client.threads.get(tid)
    assert thread["status"] == "error"
    assert thread["error"]["error"] == "ValueError"
    await client.runs.wait(tid, "echo", input={})
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["error"] is None  # as the official server


async def test_enqueue_runs_in_creation_order_each_on_previous_state(
    client: LangGraphClient,
) -> None:
    tid = await _thread(client)
    runs = [
        await client.runs.create(tid, "slow", input={"items": [i]}, config=SLOW) for i in range(3)
    ]
    assert (await client.threads.get(tid))["status"] == "busy"
    for run in runs:
        await client.runs.join(tid, run["run_id"])
    values = (await client.threads.get(tid))["values"]["items"]
    assert values == [0, "nap", "nap", "nap", 1, "nap", "nap", "nap", 2, "nap", "nap", "nap"]


async def test_reject_on_busy_thread_is_409_and_creates_nothing(client: LangGraphClient) -> None:
    tid = await _thread(client)
    first = await client.runs.create(tid, "slow", input={}, config=SLOW)
    with pytest.raises(httpx.HTTPStatusError) as err:
        await client.runs.create(tid, "echo", input={}, multitask_strategy="reject")
    assert err.value.response.status_code == 409
    with pytest.raises(httpx.HTTPStatusError) as err:
        await client.runs.wait(tid, "echo", input={}, multitask_strategy="reject")
    assert err.value.response.status_code == 409
    assert len(await client.runs.list(tid)) == 1
    await client.runs.join(tid, first["run_id"])


async def test_interrupt_strategy_interrupts_running_run_and_keeps_its_progress(
    client: LangGraphClient,
) -> None:
    tid = await _thread(client)
    first = await client.runs.create(tid, "slow", input={"items": ["first"]}, config=SLOW)
    await _status_soon(client, tid, first["run_id"], "running")
    await asyncio.sleep(0.45)  # first step done, second in flight
    second = await client.runs.create(
        tid, "echo", input={"items": ["second"]}, multitask_strategy="interrupt"
    )
    assert await client.runs.join(tid, second["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    items = (await client.threads.get(tid))["values"]["items"]
    assert items[0] == "first" and items[-2:] == ["second", "one"]
    assert "nap" in items  # the interrupted run's finished step was kept


async def test_rollback_strategy_deletes_running_run_and_its_checkpoints(
    client: LangGraphClient,
) -> None:
    tid = await _thread(client)
    await client.runs.wait(tid, "echo", input={"items": ["base"]})
    first = await client.runs.create(tid, "slow", input={"items": ["gone"]}, config=SLOW)
    await _status_soon(client, tid, first["run_id"], "running")
    await asyncio.sleep(0.45)
    second = await client.runs.create(
        tid, "echo", input={"items": ["new"]}, multitask_strategy="rollback"
    )
    assert await client.runs.join(tid, second["run_id"]) == {"items": ["base", "one", "new", "one"]}
    with pytest.raises(httpx.HTTPStatusError) as err:
        await client.runs.get(tid, first["run_id"])
    assert err.value.response.status_code == 404


async def test_rollback_of_pending_run_deletes_it_without_running(
    client: LangGraphClient, ledger: Any
) -> None:
    tid = await _thread(client)
    first = await client.runs.create(tid, "slow", input={}, config=SLOW)
    queued = await client.runs.create(
        tid, "steps", input={}, config={"configurable": {"ledger": str(ledger)}}
    )
    await client.runs.cancel(tid, queued["run_id"], action="rollback")
    with pytest.raises(httpx.HTTPStatusError):
        await client.runs.get(tid, queued["run_id"])
    await client.runs.join(tid, first["run_id"])
    assert not ledger.exists()
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_cancel_interrupt_with_wait_returns_values_and_marks_interrupted(
    client: LangGraphClient,
) -> None:
    tid = await _thread(client)
    run = await client.runs.create(tid, "slow", input={"items": ["x"]}, config=SLOW)
    await _status_soon(client, tid, run["run_id"], "running")
    await asyncio.sleep(0.45)
    values = await client.runs.cancel(tid, run["run_id"], wait=True)
    assert values["items"][0] == "x"
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"  # the unfinished step is still next


async def test_cancel_of_finished_or_unknown_run_is_404(client: LangGraphClient) -> None:
    tid = await _thread(client)
    run = await client.runs.create(tid, "echo", input={})
    await client.runs.join(tid, run["run_id"])
    for rid in (run["run_id"], "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(httpx.HTTPStatusError) as err:
            await client.runs.cancel(tid, rid)
        assert err.value.response.status_code == 404


async def test_cancel_pending_run_never_executes(client: LangGraphClient, ledger: Any) -> None:
    tid = await _thread(client)
    run = await client.runs.create(
        tid, "steps", input={}, config={"configurable": {"ledger": str(ledger)}}, after_seconds=30
    )
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "pending"
    await client.runs.cancel(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
    assert (await client.threads.get(tid))["status"] == "idle"
    assert not ledger.exists()


async def test_bulk_cancel_by_ids(client: LangGraphClient) -> None:
    tid = await _thread(client)
    runs = [await client.runs.create(tid, "slow", input={}, config=SLOW) for _ in range(2)]
    await client.runs.cancel_many(thread_id=tid, run_ids=[r["run_id"] for r in runs])
    for run in runs:
        await client.runs.join(tid, run["run_id"])
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"


async def test_after_seconds_delays_the_start(client: LangGraphClient) -> None:
    tid = await _thread(client)
    run = await client.runs.create(tid, "echo", input={}, after_seconds=1)
    await asyncio.sleep(0.3)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "pending"
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"


async def test_if_not_exists_create_makes_the_thread(client: LangGraphClient) -> None:
    tid = "5d0c9a5e-3c1a-4a5e-9a8e-2f2b0c6b1a01"
    result = await client.runs.wait(tid, "echo", input={}, if_not_exists="create")
    assert result == {"items": ["one"]}
    assert (await client.threads.get(tid))["metadata"]["graph_id"] == "echo"


async def test_interrupt_before_pauses_and_null_input_resumes(client: LangGraphClient) -> None:
    tid = await _thread(client)
    await client.runs.wait(tid, "ten", input={"items": []}, interrupt_before=["step_5"])
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["values"]["items"] == [f"step_{i}" for i in range(1, 5)]
    final = await client.runs.wait(tid, "ten", input=None)
    assert final["items"][-1] == "step_10"


async def test_command_resume_and_goto(client: LangGraphClient) -> None:
    tid = await _thread(client)
    paused = await client.runs.wait(tid, "human", input={"items": []})
    assert paused["__interrupt__"][0]["value"] == {"question": "approve?"}
    resumed = await client.runs.wait(tid, "human", command={"resume": "yes"})
    assert resumed == {"items": ["yes"]}
    jumped = await client.runs.wait(tid, "ten", command={"goto": "step_9"})
    assert jumped["items"][-2:] == ["step_9", "step_10"]


async def test_config_context_and_factory_graph(client: LangGraphClient) -> None:
    tid = await _thread(client)
    result = await client.runs.wait(
        tid, "factory", input={}, config={"configurable": {"greeting": "hello"}}
    )
    assert result == {"items": ["hello"]}


async def test_recursion_limit_fails_the_run(client: LangGraphClient) -> None:
    tid = await _thread(client)
    result = await client.runs.wait(
        tid, "ten", input={}, config={"recursion_limit": 3}, raise_error=False
    )
    assert result["__error__"]["error"] == "GraphRecursionError"


async def test_durability_exit_keeps_only_the_final_checkpoint(client: LangGraphClient) -> None:
    tid = await _thread(client)
    await client.runs.wait(tid, "ten", input={}, durability="exit")
    history = await client.threads.get_history(tid, limit=100)
    assert len(history) == 1


async def test_delete_run(client: LangGraphClient) -> None:
    tid = await _thread(client)
    run = await client.runs.create(tid, "echo", input={})
    await client.runs.join(tid, run["run_id"])
    await client.runs.delete(tid, run["run_id"])
    assert await client.runs.list(tid) == []
