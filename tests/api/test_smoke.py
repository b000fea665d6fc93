"""The basic path through the official SDK: create a thread, run, wait, stream."""

from __future__ import annotations

from langgraph_sdk.client import LangGraphClient


async def test_wait_returns_final_values(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "echo", input={"items": ["x"]})
    assert result == {"items": ["x", "one"]}


async def test_stream_sends_metadata_first_then_requested_modes(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = [
        p
        async for p in client.runs.stream(
            thread["thread_id"], "echo", input={"items": []}, stream_mode=["updates", "custom"]
        )
    ]
    assert [p.event for p in parts] == ["metadata", "custom", "updates"]
    assert parts[1].data == {"hello": "world"}
