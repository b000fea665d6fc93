"""Idempotent run creation: the same ``Idempotency-Key`` returns the same run, never a second
one, even under concurrent duplicates. Source: issue 3, "Run retries and idempotency"."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.support import Server


async def test_concurrent_duplicates_create_one_run(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    key = str(uuid.uuid4())
    body = {"assistant_id": "echo", "input": {"items": ["once"]}}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(f"/threads/{tid}/runs", json=body, headers={"Idempotency-Key": key})
                for _ in range(50)
            )
        )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["run_id"] for r in responses}) == 1
    runs = await client.runs.list(tid)
    assert len(runs) == 1
    assert await client.runs.join(tid, runs[0]["run_id"]) == {"items": ["once", "one"]}


async def test_sdk_header_repeats_return_the_same_run(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    headers = {"Idempotency-Key": "order-42"}
    first = await client.runs.create(tid, "echo", input={}, headers=headers)
    await client.runs.join(tid, first["run_id"])
    again = await client.runs.create(tid, "echo", input={}, headers=headers)
    assert again["run_id"] == first["run_id"] and again["status"] == "success"
    assert len(await client.runs.list(tid)) == 1


async def test_key_reused_with_another_body_is_422_and_creates_nothing(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    headers = {"Idempotency-Key": "k1"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        ok = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "echo"}, headers=headers)
        assert ok.status_code == 200
        clash = await http.post(
            f"/threads/{tid}/runs",
            json={"assistant_id": "echo", "input": {"items": [1]}},
            headers=headers,
        )
    assert clash.status_code == 422
    assert len(await client.runs.list(tid)) == 1


async def test_keys_are_scoped_to_their_thread_and_stateless_waits_reuse_the_run(
    client: LangGraphClient,
) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    a = await client.threads.create()
    b = await client.threads.create()
    run_a = await client.runs.create(a["thread_id"], "echo", input={}, headers=headers)
    run_b = await client.runs.create(b["thread_id"], "echo", input={}, headers=headers)
    assert run_a["run_id"] != run_b["run_id"]
    body = {"input": {"items": [7]}, "config": {"configurable": {"sleep": 0.3}}, "headers": headers}
    first, second = await asyncio.gather(
        client.runs.wait(None, "slow", **body),  # type: ignore[arg-type]
        client.runs.wait(None, "slow", **body),  # type: ignore[arg-type]
    )
    full = {"items": [7, "nap", "nap", "nap"]}
    # the reader that answers first may have removed the run's thread before the other read it
    assert full in (first, second) and all(r in (full, {}) for r in (first, second))
    # once the run ended its stateless thread goes (as on the official server; the readers
    # remove it in the background just after answering): until then a retry returns the same
    # run, afterwards it finds no run to return; it never starts a second one
    deadline = time.monotonic() + 10
    while True:
        try:
            again = await client.runs.wait(None, "slow", **body)  # type: ignore[arg-type]
        except httpx.HTTPStatusError as gone:
            assert gone.response.status_code == 409
            assert "no longer exists" in gone.response.json()["detail"]
            break
        assert again in (full, {}) and time.monotonic() < deadline
        await asyncio.sleep(0.1)
