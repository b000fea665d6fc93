"""Threads and crons have the official server's shapes (issue 8, "Real-world drop-in"): key
order of what they store, the keys a thread has before and after its state is stored, the
config a run leaves on its thread. Each test names the official behaviour it pins, observed by
running ``langgraph dev`` (langgraph-api 0.16.7) on the same graphs (tests/graphs/shapes.py)
with the same requests.
"""

from __future__ import annotations

import uuid

from langgraph_sdk.client import LangGraphClient

PAYLOAD = {"zeta": 1, "alpha": 2, "mid": 3, "b": 4}
"""Keys in an order no sorting gives (``jsonb`` orders by length, then bytes)."""
NEW_THREAD_KEYS = [
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "status",
    "config",
    "values",
]


async def test_thread_values_and_interrupts_keep_the_graph_key_order(
    client: LangGraphClient,
) -> None:
    """Official: a thread's ``values`` list the state keys in the graph's order (the input's
    own order inside them) and its ``interrupts`` keep the interrupt value's order, in get and
    search alike."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "order", input={"payload": PAYLOAD, "ask": True})
    for got in (await client.threads.get(tid), *(await client.threads.search(ids=[tid]))):
        assert list(got["values"]) == ["payload", "ask"]
        assert list(got["values"]["payload"]) == list(PAYLOAD)
        ((interrupt,),) = got["interrupts"].values()
        assert list(interrupt["value"]) == ["question", "about"]
    copied = await client.threads.copy(tid)
    assert list(copied["values"]["payload"]) == list(PAYLOAD)


async def test_cron_payload_keeps_the_key_order_of_its_run_body(client: LangGraphClient) -> None:
    """Official: a cron's payload, whose runs it starts, keeps the input's key order."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    cron = await client.crons.create_for_thread(
        tid, "order", schedule="0 3 * * *", input={"payload": PAYLOAD}, context={"zz": 1, "aa": 2}
    )
    try:
        for got in (cron, *(await client.crons.search(thread_id=tid))):
            assert list(got["payload"]["input"]["payload"]) == list(PAYLOAD)
            assert list(got["payload"]["context"]) == ["zz", "aa"]
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_a_thread_has_error_and_interrupts_only_once_its_state_is_stored(
    client: LangGraphClient,
) -> None:
    """Official: a new thread (create, get, search, copy) has neither ``error`` nor
    ``interrupts``; once a run ended or its state was updated it has both (``error`` null)."""
    meta = {"test": uuid.uuid4().hex}
    thread = await client.threads.create(metadata=meta)
    tid = thread["thread_id"]
    found = await client.threads.search(metadata=meta)
    for got in (thread, await client.threads.get(tid), *found, await client.threads.copy(tid)):
        assert list(got) == NEW_THREAD_KEYS

    await client.runs.wait(tid, "echo", input={"items": []})
    ran = await client.threads.get(tid)
    assert list(ran) == [*NEW_THREAD_KEYS, "error", "interrupts"]
    assert ran["error"] is None and ran["interrupts"] == {}

    updated = await client.threads.create(graph_id="echo")
    await client.threads.update_state(updated["thread_id"], {"items": ["x"]}, as_node="one")
    got = await client.threads.get(updated["thread_id"])
    assert (got["error"], got["interrupts"], got["config"]) == (None, {}, {})


async def test_a_run_leaves_its_config_on_the_thread_without_its_configurable(
    client: LangGraphClient,
) -> None:
    """Official: creating a run sets its thread's ``config`` to the assistant's config, the
    thread's and the run's merged in that order, ``configurable`` being only the assistant's
    and the thread's (``{}`` for a system assistant)."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "echo", input={"items": []})
    assert (await client.threads.get(tid))["config"] == {"configurable": {}}

    config = {"tags": ["t1"], "recursion_limit": 10, "configurable": {"run_only": 1}}
    await client.runs.wait(tid, "echo", input={"items": []}, config=config)
    got = (await client.threads.get(tid))["config"]
    assert got == {"configurable": {}, "tags": ["t1"], "recursion_limit": 10}
    assert list(got) == ["configurable", "tags", "recursion_limit"]  # the thread's keys first

    assistant = await client.assistants.create(
        "echo", config={"tags": ["a"], "configurable": {"model": "m"}}
    )
    other = await client.threads.create()
    await client.runs.wait(
        other["thread_id"],
        assistant["assistant_id"],
        input={"items": []},
        config={"tags": ["r"], "metadata": {"why": "test"}},
    )
    got = (await client.threads.get(other["thread_id"]))["config"]
    assert got == {"tags": ["r"], "configurable": {"model": "m"}, "metadata": {"why": "test"}}
    assert list(got) == ["tags", "configurable", "metadata"]
    await client.runs.wait(other["thread_id"], "echo", input={"items": []})
    assert (await client.threads.get(other["thread_id"]))["config"] == got


async def test_search_select_keeps_the_thread_order_and_leaves_out_absent_keys(
    client: LangGraphClient,
) -> None:
    """Official: ``select`` keeps the Thread's own order whatever the order asked, and a
    thread without ``interrupts`` (new) answers without the key."""
    meta = {"test": uuid.uuid4().hex}
    ran = await client.threads.create(metadata=meta)
    await client.runs.wait(ran["thread_id"], "echo", input={"items": []})
    new = await client.threads.create(metadata=meta)
    found = await client.threads.search(metadata=meta, select=["interrupts", "status", "thread_id"])
    by_id = {t["thread_id"]: t for t in found}
    assert len(found) == 2
    assert list(by_id[new["thread_id"]]) == ["thread_id", "status"]
    assert list(by_id[ran["thread_id"]]) == ["thread_id", "status", "interrupts"]
    assert by_id[ran["thread_id"]]["interrupts"] == {}
