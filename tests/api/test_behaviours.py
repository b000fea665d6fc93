"""Behaviours a client switching from the official server relies on, each checked against
``langgraph dev`` (langgraph-api 0.16.7) with the same requests: default search orders,
keep-alive while waiting, resuming an interrupt from a chat UI, stateless threads gone at the
run's end, and runs of a deleted assistant cancelled.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient


def marker() -> dict[str, str]:
    """Metadata unique to one test, so searches see only that test's rows."""
    return {"behaviour": str(uuid.uuid4())}


# --- default orders of the search endpoints ------------------------------------------------


async def test_thread_search_without_sort_by_puts_the_most_recently_updated_first(
    client: LangGraphClient,
) -> None:
    mark = marker()
    first, second, third = [await client.threads.create(metadata=mark) for _ in range(3)]
    await client.threads.update(first["thread_id"], metadata={"touched": True})
    expected = [first["thread_id"], third["thread_id"], second["thread_id"]]

    found = await client.threads.search(metadata=mark)
    assert [t["thread_id"] for t in found] == expected
    # sort_order alone does not change the default order (the official server ignores it)
    found = await client.threads.search(metadata=mark, sort_order="asc")
    assert [t["thread_id"] for t in found] == expected
    # with sort_by and no sort_order: descending
    found = await client.threads.search(metadata=mark, sort_by="created_at")
    assert [t["thread_id"] for t in found] == [
        third["thread_id"],
        second["thread_id"],
        first["thread_id"],
    ]


async def test_a_run_moves_its_thread_to_the_top_of_the_default_search(
    client: LangGraphClient,
) -> None:
    mark = marker()
    older, newer = [await client.threads.create(metadata=mark) for _ in range(2)]
    await client.runs.wait(older["thread_id"], "echo", input={"items": []})
    found = await client.threads.search(metadata=mark)
    assert [t["thread_id"] for t in found] == [older["thread_id"], newer["thread_id"]]


async def test_assistant_search_without_sort_by_is_newest_first_whatever_sort_order(
    client: LangGraphClient,
) -> None:
    mark = marker()
    made = [await client.assistants.create("echo", metadata=mark) for _ in range(3)]
    await client.assistants.update(made[0]["assistant_id"], metadata={"touched": True})
    newest_first = [a["assistant_id"] for a in made[::-1]]
    for order in ({}, {"sort_order": "asc"}):
        found = await client.assistants.search(metadata=mark, **order)  # type: ignore[arg-type]
        assert [a["assistant_id"] for a in found] == newest_first


async def test_cron_search_without_sort_by_is_newest_first_whatever_sort_order(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    thread = await client.threads.create()
    made: list[dict[str, Any]] = []
    for _ in range(3):
        made.append(
            await client.crons.create_for_thread(thread["thread_id"], "echo", schedule="0 0 1 1 *")
        )
    newest_first = [c["cron_id"] for c in made[::-1]]
    try:
        for order in ({}, {"sort_order": "asc"}):
            answer = await http.post(
                "/runs/crons/search", json={"thread_id": thread["thread_id"], **order}
            )
            assert [c["cron_id"] for c in answer.json()] == newest_first
    finally:
        for cron in made:
            await client.crons.delete(cron["cron_id"])


# --- keep-alive while waiting --------------------------------------------------------------

BUSY_RUN = {
    "assistant_id": "steps",
    "input": {"items": []},
    "config": {"configurable": {"sleep": 0.6}},  # 20 steps: an event every 0.6 s for ~12 s
}
KEEPALIVE = 5.0
"""The official server writes a newline every 5 s of wall-clock time while a client waits."""


async def _byte_arrivals(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> list[float]:
    """Seconds from the request until each chunk of the answer arrived; the last is the end."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    arrivals = []
    body = b""
    async with http.stream(method, url, **kw) as answer:
        assert answer.status_code == 200
        async for chunk in answer.aiter_raw():
            arrivals.append(loop.time() - started)
            body += chunk
    assert b'"step_20"' in body
    return arrivals


async def test_wait_and_join_send_a_keepalive_every_5_seconds_during_a_busy_run(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    waiting = await client.threads.create()
    joined = await client.threads.create()
    run = await client.runs.create(
        joined["thread_id"],
        **BUSY_RUN,  # type: ignore[arg-type]
    )
    for arrivals in await asyncio.gather(
        _byte_arrivals(http, "POST", f"/threads/{waiting['thread_id']}/runs/wait", json=BUSY_RUN),
        _byte_arrivals(http, "GET", f"/threads/{joined['thread_id']}/runs/{run['run_id']}/join"),
    ):
        assert arrivals[-1] > 2 * KEEPALIVE  # the run did outlast two keep-alives
        gaps = [b - a for a, b in zip([0.0, *arrivals], arrivals, strict=False)]
        assert max(gaps) < KEEPALIVE + 1.5, arrivals  # slack for a busy machine


# --- resuming an interrupt as useStream's submit() sends it --------------------------------

RESUMED = {"items": ["first", "yes"]}
STILL_ASKING = "__interrupt__"


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        # submit({}, {command}): agent-chat-ui's approve/resume and "Mark as resolved"
        ({"input": {}, "command": {"resume": "yes"}}, RESUMED),
        ({"input": {}, "command": {"goto": "__end__"}}, STILL_ASKING),
        # submit(null, {command}): useStream's resumeSubmit; submit(undefined, {command})
        ({"input": None, "command": {"resume": "yes"}}, RESUMED),
        ({"command": {"resume": "yes"}}, RESUMED),
        # a command that sets anything wins over any input
        ({"input": {"items": ["extra"]}, "command": {"resume": "yes"}}, RESUMED),
        ({"input": {}, "command": {"update": {"items": ["upd"]}}}, {"items": ["first", "upd"]}),
        # an empty command leaves the input to run
        ({"input": {"items": ["extra"]}, "command": {}}, {"items": ["first", "extra"]}),
    ],
    ids=[
        "{} + resume",
        "{} + goto END",
        "null + resume",
        "resume only",
        "values + resume",
        "{} + update",
        "values + empty command",
    ],
)
async def test_input_beside_command_runs_as_the_official_server_runs_it(
    client: LangGraphClient, http: httpx.AsyncClient, body: dict[str, Any], outcome: Any
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    asked = await client.runs.wait(tid, "human", input={"items": ["first"]})
    assert STILL_ASKING in asked  # type: ignore[operator]

    answer = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "human", **body})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    if outcome == STILL_ASKING:
        assert STILL_ASKING in result and result["items"] == ["first"]
    else:
        assert {k: v for k, v in result.items() if k != STILL_ASKING} == outcome
    status = (await client.threads.get(tid))["status"]
    assert status == ("idle" if outcome == RESUMED else "interrupted")


# --- a stateless run's thread goes when the run ends ---------------------------------------


async def _gone(http: httpx.AsyncClient, thread_id: str, within: float = 3.0) -> bool:
    """Whether the thread is gone, or goes within ``within`` seconds (a reader removes it
    just after its answer, without making its client wait; the sweep would take 60 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (await http.get(f"/threads/{thread_id}")).status_code != 404:
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_stateless_wait_and_stream_leave_no_thread_behind(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    seen: list[str] = []

    def note(meta: Any) -> None:
        seen.append(str(meta["thread_id"]))

    assert await client.runs.wait(None, "echo", input={}, on_run_created=note) == {"items": ["one"]}
    assert await _gone(http, seen[-1])
    # a stateless stream does not name its thread; its checkpoints do
    parts = [p async for p in client.runs.stream(None, "echo", input={}, stream_mode="checkpoints")]
    assert parts[-1].data["values"] == {"items": ["one"]}
    assert await _gone(http, parts[-1].data["config"]["configurable"]["thread_id"])
    # on_completion="keep" keeps it
    await client.runs.wait(None, "echo", input={}, on_completion="keep", on_run_created=note)
    assert (await client.threads.get(seen[-1]))["values"] == {"items": ["one"]}


async def test_a_stateless_background_run_leaves_no_thread_once_it_ends(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    run = await client.runs.create(None, "slow", input={}, config={"configurable": {"sleep": 0.2}})
    thread_id = str(run["thread_id"])
    assert not await _gone(http, thread_id, within=0)  # still running
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not await _gone(http, thread_id):
        assert loop.time() < deadline, "the thread outlived its run"
        await asyncio.sleep(0.05)
    # gone within moments of the end (3 steps of 0.2 s), not after a grace period or a sweep
    assert loop.time() - (deadline - 10) < 3.0


# --- deleting an assistant cancels its runs ------------------------------------------------


async def test_deleting_an_assistant_cancels_its_pending_and_running_runs(
    client: LangGraphClient,
) -> None:
    assistant = await client.assistants.create("slow")
    aid = assistant["assistant_id"]
    thread = await client.threads.create()
    tid = thread["thread_id"]
    long = {"configurable": {"sleep": 30}}
    running = await client.runs.create(tid, aid, input={}, config=long)
    pending = await client.runs.create(tid, aid, input={}, multitask_strategy="enqueue")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while (await client.runs.get(tid, running["run_id"]))["status"] != "running":
        assert loop.time() < deadline
        await asyncio.sleep(0.05)

    await client.assistants.delete(aid)
    for run in (running, pending):
        while (status := (await client.runs.get(tid, run["run_id"]))["status"]) in (
            "pending",
            "running",
        ):
            assert loop.time() < deadline, "the run went on after its assistant was deleted"
            await asyncio.sleep(0.05)
        assert status == "interrupted"
    # as after any cancel with "interrupt": the unfinished step is next, nothing runs
    assert (await client.threads.get(tid))["status"] == "interrupted"
