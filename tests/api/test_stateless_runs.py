"""Stateless runs (``/runs``, ``/runs/wait``, ``/runs/stream``, ``/runs/batch``) and
``on_disconnect``. Source: Agent Server API, "Stateless runs", "Other run fields"."""

from __future__ import annotations

import asyncio

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from tests.support import Server


async def test_stateless_wait_and_stream(client: LangGraphClient) -> None:
    assert await client.runs.wait(None, "echo", input={"items": [1]}) == {"items": [1, "one"]}
    events = [
        p.event async for p in client.runs.stream(None, "echo", input={}, stream_mode="custom")
    ]
    assert events == ["metadata", "custom"]


async def test_stateless_threads_are_hidden_and_removed(client: LangGraphClient) -> None:
    before = await client.threads.count()
    await client.runs.wait(None, "echo", input={})
    assert await client.threads.count() == before


async def test_on_completion_keep_keeps_the_thread(client: LangGraphClient) -> None:
    seen: list[str] = []
    await client.runs.wait(
        None,
        "echo",
        input={},
        on_completion="keep",
        on_run_created=lambda meta: seen.append(str(meta["thread_id"])),
    )
    thread = await client.threads.get(seen[0])
    assert thread["values"] == {"items": ["one"]}


async def test_background_stateless_run_and_batch(client: LangGraphClient) -> None:
    slow = {"configurable": {"sleep": 0.3}}
    run = await client.runs.create(None, "slow", input={}, config=slow)
    # joined while it runs; its thread (and so the run) is gone once it ended
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {"items": ["nap"] * 3}
    batch = await client.runs.create_batch(
        [{"assistant_id": "slow", "input": {"items": [i]}, "config": slow} for i in range(3)]
    )
    assert len({r["run_id"] for r in batch}) == 3
    joined = await asyncio.gather(*(client.runs.join(r["thread_id"], r["run_id"]) for r in batch))
    assert joined == [{"items": [i, "nap", "nap", "nap"]} for i in range(3)]


async def test_joining_a_stateless_run_after_its_end_answers_the_official_error(
    client: LangGraphClient,
) -> None:
    """Once a stateless run ended its thread goes, and the run with it; a join then answers
    as the official server's does: 200 with ``{"__error__"}`` (the SDK returns it), and the
    join stream one ``error`` event."""
    run = await client.runs.create(None, "echo", input={})
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {"items": ["one"]}
    async with asyncio.timeout(10):
        while True:  # removed in the background just after the join answered
            try:
                await client.threads.get(run["thread_id"])
            except NotFoundError:
                break
            await asyncio.sleep(0.05)
    not_found = {"error": "HTTPException", "message": "404: Run not found"}
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {"__error__": not_found}
    parts = [p async for p in client.runs.join_stream(run["thread_id"], run["run_id"])]
    assert [(p.event, p.data) for p in parts] == [("error", not_found)]


async def test_batch_with_one_bad_item_creates_nothing(
    client: LangGraphClient, server: Server
) -> None:
    before = await client.threads.count()
    body = [
        {"assistant_id": "echo", "on_completion": "keep"},  # a kept thread would be counted
        {"assistant_id": "no-such-graph"},
    ]
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/runs/batch", json=body)
    assert response.status_code == 422
    assert await client.threads.count() == before


async def test_resume_without_thread_is_400(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(
            "/runs/wait", json={"assistant_id": "human", "command": {"resume": "x"}}
        )
    assert response.status_code == 400
    assert "thread_id" in response.json()["detail"]


async def test_disconnect_with_on_disconnect_cancel_interrupts_the_run(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    body = {
        "assistant_id": "slow",
        "input": {},
        "config": {"configurable": {"sleep": 1.0}},
        "on_disconnect": "cancel",
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: metadata"):
                    break
    async with asyncio.timeout(30):
        while True:
            runs = await client.runs.list(tid)
            if runs and runs[0]["status"] == "interrupted":
                break
            await asyncio.sleep(0.1)


async def test_disconnect_by_default_lets_the_run_finish(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    body = {"assistant_id": "slow", "input": {}, "config": {"configurable": {"sleep": 0.2}}}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: metadata"):
                    break
    runs = await client.runs.list(tid)
    await client.runs.join(tid, runs[0]["run_id"])
    assert (await client.runs.get(tid, runs[0]["run_id"]))["status"] == "success"
