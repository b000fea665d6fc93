"""Thread state through the official SDK: state, state at a checkpoint, history, state updates
and time travel (fork an older checkpoint, then run from it)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)

STEPS = [f"step_{i}" for i in range(1, 11)]


async def ran(client: LangGraphClient, graph: str, items: list[str]) -> str:
    """A new thread on which ``graph`` ran once with ``items`` as input."""
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], graph, input={"items": items})
    return str(thread["thread_id"])


async def test_a_thread_that_never_ran_has_empty_state_and_history(
    client: LangGraphClient,
) -> None:
    for thread in (await client.threads.create(), await client.threads.create(graph_id="echo")):
        state = await client.threads.get_state(thread["thread_id"])
        assert state["values"] == {}
        assert state["next"] == []
        assert state["tasks"] == []
        assert state["interrupts"] == []
        assert state["checkpoint"] is None
        assert state["parent_checkpoint"] is None
        assert state["checkpoint_id"] is None
        assert await client.threads.get_history(thread["thread_id"]) == []


async def test_state_after_a_run_names_its_checkpoint(client: LangGraphClient) -> None:
    thread_id = await ran(client, "echo", ["x"])
    state = await client.threads.get_state(thread_id)
    assert state["values"] == {"items": ["x", "one"]}
    assert state["next"] == []
    assert state["tasks"] == []
    assert state["metadata"]["source"] == "loop"
    assert state["metadata"]["step"] == 1
    assert state["checkpoint"]["thread_id"] == thread_id
    assert state["checkpoint"]["checkpoint_ns"] == ""
    assert state["checkpoint"]["checkpoint_id"] == state["checkpoint_id"]
    assert state["parent_checkpoint"]["checkpoint_id"] == state["parent_checkpoint_id"]
    assert isinstance(state["created_at"], str)
    at_id = await client.threads.get_state(thread_id, checkpoint_id=state["checkpoint_id"])
    at_body = await client.threads.get_state(
        thread_id, checkpoint={"checkpoint_id": state["checkpoint_id"], "checkpoint_ns": ""}
    )
    assert at_id == state
    assert at_body == state
    parent = await client.threads.get_state(thread_id, checkpoint_id=state["parent_checkpoint_id"])
    assert parent["values"] == {"items": ["x"]}
    assert parent["next"] == ["one"]


async def test_state_after_an_interrupt_lists_next_and_interrupts(
    client: LangGraphClient,
) -> None:
    thread_id = await ran(client, "human", ["h"])
    state = await client.threads.get_state(thread_id)
    assert state["values"] == {"items": ["h"]}
    assert state["next"] == ["ask"]
    [task] = state["tasks"]
    assert task["name"] == "ask"
    assert task["error"] is None
    [interrupt] = task["interrupts"]
    assert interrupt["value"] == {"question": "approve?"}
    assert state["interrupts"] == [interrupt]
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    assert thread["interrupts"] == {task["id"]: [interrupt]}


async def test_select_keeps_only_the_named_fields(client: LangGraphClient) -> None:
    thread_id = await ran(client, "echo", ["x"])
    state = await client.threads.get_state(thread_id, select=["values.items", "next"])
    assert state == {"values": {"items": ["x", "one"]}, "next": []}
    [latest] = await client.threads.get_history(thread_id, limit=1, select=["checkpoint_id"])
    assert set(latest) == {"checkpoint_id"}
    with pytest.raises(UnprocessableEntityError):
        await client.threads.get_state(thread_id, select=["password"])


async def test_history_has_n_plus_2_checkpoints_newest_first(client: LangGraphClient) -> None:
    thread_id = await ran(client, "ten", [])
    history = await client.threads.get_history(thread_id, limit=100)
    assert len(history) == len(STEPS) + 2
    assert [s["metadata"]["step"] for s in history] == list(range(10, -2, -1))
    assert history[-1]["metadata"]["source"] == "input"
    assert history[0]["values"] == {"items": STEPS}
    assert (
        history[0]["checkpoint_id"] == (await client.threads.get_state(thread_id))["checkpoint_id"]
    )
    for newer, older in itertools.pairwise(history):
        assert newer["parent_checkpoint_id"] == older["checkpoint_id"]

    assert await client.threads.get_history(thread_id, limit=3) == history[:3]
    before_str = await client.threads.get_history(
        thread_id, limit=2, before=history[4]["checkpoint_id"]
    )
    assert before_str == history[5:7]
    before_dict = await client.threads.get_history(
        thread_id, limit=100, before={"checkpoint_id": history[9]["checkpoint_id"]}
    )
    assert before_dict == history[10:]
    [step5] = await client.threads.get_history(thread_id, limit=100, metadata={"step": 5})
    assert step5 == history[5]
    assert await client.threads.get_history(thread_id, metadata={"step": 99}) == []


async def test_get_history_defaults_to_the_latest_state(client: LangGraphClient) -> None:
    thread_id = await ran(client, "echo", [])
    latest = await client.http.get(f"/threads/{thread_id}/history")
    assert [s["checkpoint_id"] for s in latest] == [
        (await client.threads.get_state(thread_id))["checkpoint_id"]
    ]
    everything = await client.http.get(f"/threads/{thread_id}/history", params={"limit": 10})
    assert len(everything) == 3
    older = await client.http.get(
        f"/threads/{thread_id}/history",
        params={"limit": 10, "before": everything[0]["checkpoint_id"]},
    )
    assert older == everything[1:]


async def test_update_state_as_a_node_moves_past_an_interrupt(client: LangGraphClient) -> None:
    thread_id = await ran(client, "human", ["h"])
    before = await client.threads.get_state(thread_id)
    answer = await client.threads.update_state(thread_id, {"items": ["approved"]}, as_node="ask")
    assert answer["checkpoint"]["thread_id"] == thread_id
    assert answer["checkpoint"]["checkpoint_ns"] == ""
    assert answer["checkpoint_id"] == answer["checkpoint"]["checkpoint_id"]
    assert answer["configurable"]["checkpoint_id"] == answer["checkpoint_id"]
    state = await client.threads.get_state(thread_id)
    assert state["checkpoint_id"] == answer["checkpoint_id"]
    assert state["parent_checkpoint_id"] == before["checkpoint_id"]
    assert state["values"] == {"items": ["h", "approved"]}
    assert state["next"] == []
    assert state["metadata"]["source"] == "update"
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "idle"
    assert thread["values"] == {"items": ["h", "approved"]}
    assert thread["interrupts"] == {}


async def test_time_travel_forks_an_older_checkpoint_and_runs_from_it(
    client: LangGraphClient,
) -> None:
    thread_id = await ran(client, "ten", [])
    history = await client.threads.get_history(thread_id, limit=100)
    [at3] = [s for s in history if s["metadata"]["step"] == 3]
    assert at3["values"] == {"items": STEPS[:3]}
    assert at3["next"] == ["step_4"]

    forked = await client.threads.update_state(
        thread_id,
        {"items": ["fork"]},
        as_node="step_3",
        checkpoint={"checkpoint_id": at3["checkpoint_id"], "checkpoint_ns": ""},
    )
    fork = await client.threads.get_state(thread_id, checkpoint_id=forked["checkpoint_id"])
    assert fork["values"] == {"items": [*STEPS[:3], "fork"]}
    assert fork["next"] == ["step_4"]
    assert fork["parent_checkpoint_id"] == at3["checkpoint_id"]
    assert (await client.threads.get_state(thread_id))["checkpoint_id"] == forked["checkpoint_id"]
    assert (await client.threads.get(thread_id))["status"] == "interrupted"

    result = await client.runs.wait(
        thread_id, "ten", input=None, checkpoint_id=forked["checkpoint_id"]
    )
    assert result == {"items": [*STEPS[:3], "fork", *STEPS[3:]]}
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "idle"
    assert thread["values"] == result
    # The original branch is still there to read.
    original = await client.threads.get_state(thread_id, checkpoint_id=history[0]["checkpoint_id"])
    assert original["values"] == {"items": STEPS}


async def test_subgraph_state_and_history(client: LangGraphClient) -> None:
    thread_id = await ran(client, "parent", [])
    history = await client.threads.get_history(thread_id, limit=100)
    [at0] = [s for s in history if s["next"] == ["child"]]
    [task] = at0["tasks"]
    namespace = task["checkpoint"]["checkpoint_ns"]
    assert namespace.startswith("child:")
    assert task["state"] is None
    deep = await client.threads.get_state(
        thread_id, checkpoint_id=at0["checkpoint_id"], subgraphs=True
    )
    [deep_task] = deep["tasks"]
    assert deep_task["state"]["values"] == {"items": ["child"]}
    assert deep_task["state"]["checkpoint"]["checkpoint_ns"] == namespace
    child_history = await client.threads.get_history(
        thread_id, limit=100, checkpoint={"checkpoint_ns": namespace}
    )
    assert child_history
    assert {s["checkpoint"]["checkpoint_ns"] for s in child_history} == {namespace}
    assert child_history[0]["values"] == {"items": ["child"]}


async def test_update_state_while_a_run_is_active_is_409(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    run = await client.runs.create(
        thread_id, "slow", input={"items": []}, config={"configurable": {"sleep": 1}}
    )
    with pytest.raises(ConflictError):
        await client.threads.update_state(thread_id, {"items": ["x"]}, as_node="step_1")
    await client.runs.cancel(thread_id, run["run_id"], wait=True)
    history = await client.threads.get_history(thread_id, limit=100)
    assert all(s["metadata"]["source"] != "update" for s in history)


async def test_update_as_an_unknown_node_is_400_in_langgraphs_words(
    client: LangGraphClient,
) -> None:
    """As the official server answers a state update the graph refuses (LangGraph's
    ``InvalidUpdateError``): 400 with LangGraph's message, in an update and in ``supersteps``."""
    thread_id = await ran(client, "echo", ["x"])
    with pytest.raises(BadRequestError) as refused:
        await client.threads.update_state(thread_id, {"items": ["y"]}, as_node="nope")
    assert refused.value.response.json() == {"detail": "Node nope does not exist"}
    with pytest.raises(BadRequestError) as refused:
        await client.threads.create(
            graph_id="echo", supersteps=[{"updates": [{"values": {}, "as_node": "nope"}]}]
        )
    assert refused.value.response.json() == {"detail": "Node nope does not exist"}


async def test_bad_state_requests_are_refused_and_change_nothing(
    client: LangGraphClient,
) -> None:
    thread_id = await ran(client, "echo", ["x"])
    history = await client.threads.get_history(thread_id, limit=100)
    thread = await client.threads.get(thread_id)
    unknown = str(uuid.uuid4())
    never_ran = (await client.threads.create())["thread_id"]

    refused: list[tuple[type[Exception], Any]] = [
        (BadRequestError, client.threads.update_state(thread_id, {}, as_node="nope")),
        (BadRequestError, client.threads.update_state(thread_id, {"items": "str"})),
        (UnprocessableEntityError, client.threads.get_state(thread_id, checkpoint_id="nope")),
        (UnprocessableEntityError, client.threads.get_history(thread_id, limit=0)),
        (UnprocessableEntityError, client.threads.get_history(thread_id, limit=1001)),
        (NotFoundError, client.threads.update_state(thread_id, {}, checkpoint_id=unknown)),
        (NotFoundError, client.threads.get_state(thread_id, checkpoint_id=unknown)),
        (
            NotFoundError,
            client.threads.get_state(thread_id, checkpoint={"checkpoint_id": unknown}),
        ),
        (NotFoundError, client.threads.update_state(unknown, {"items": ["y"]})),
        (NotFoundError, client.threads.get_state(unknown)),
        (NotFoundError, client.threads.get_history(unknown)),
        (BadRequestError, client.threads.update_state(never_ran, {"items": ["y"]})),
    ]
    for error, call in refused:
        with pytest.raises(error):
            await call
    for path, body in [
        (f"/threads/{thread_id}/state", {"values": "text"}),
        (f"/threads/{thread_id}/state", {"checkpoint": {"checkpoint_ns": 5}}),
        (f"/threads/{thread_id}/state/checkpoint", {}),
        (f"/threads/{thread_id}/history", {"before": 5}),
        ("/threads/not-a-uuid/state", {"values": {}}),
        ("/threads/not-a-uuid/history", {}),
    ]:
        with pytest.raises(UnprocessableEntityError):
            await client.http.post(path, json=body)
    assert await client.threads.get_history(thread_id, limit=100) == history
    assert await client.threads.get(thread_id) == thread
    assert await client.threads.get_history(never_ran) == []
