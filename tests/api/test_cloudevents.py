"""Runs started by CloudEvents from other systems: ``POST /cloudevents`` with a
``dev.lgdeploy.run.create`` event, in binary or structured mode, idempotent on the event's
``source`` + ``id``. Source: issue 4, "Functions as processes" (lg-deploy extension)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import orjson
from cloudevents.core.bindings.http import to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from langgraph_sdk.client import LangGraphClient

from shared.cloud_events.types import RUN_CREATE, new_event
from tests.support import Server


async def _post(
    server: Server, data: dict[str, Any], *, structured: bool = False, **attrs: str
) -> httpx.Response:
    event = new_event(attrs.pop("type", RUN_CREATE), "/tests/other-system", data)
    if attrs:
        event = type(event)(attributes={**event.get_attributes(), **attrs}, data=data)
    message = (to_structured if structured else to_binary)(event, JSONFormat())
    return await _send(server, dict(message.headers), message.body)


async def _send(server: Server, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(server.url + "/cloudevents", headers=headers, content=body)


async def test_a_binary_event_starts_a_run_on_a_thread(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    data = {"assistant_id": "echo", "input": {"items": []}, "thread_id": thread["thread_id"]}
    response = await _post(server, data)
    assert response.status_code == 202
    run = response.json()
    assert run["thread_id"] == thread["thread_id"]
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {"items": ["one"]}


async def test_a_structured_event_without_thread_runs_stateless(
    client: LangGraphClient, server: Server
) -> None:
    slow = {"configurable": {"sleep": 0.3}}  # still running when joined: a stateless run's
    # thread (and the run with it) is gone once it ended
    response = await _post(
        server, {"assistant_id": "slow", "input": {"items": []}, "config": slow}, structured=True
    )
    assert response.status_code == 202
    run = response.json()
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {"items": ["nap"] * 3}


async def test_a_redelivered_event_returns_the_same_run(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    data = {"assistant_id": "echo", "input": {"items": []}, "thread_id": thread["thread_id"]}
    event_id = str(uuid.uuid4())
    first = await _post(server, data, id=event_id)
    again = await _post(server, data, id=event_id, structured=True)
    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"]
    assert len(await client.runs.list(thread["thread_id"])) == 1
    other = await _post(server, data)  # another id: another run
    assert other.json()["run_id"] != first.json()["run_id"]


async def test_an_event_redelivered_after_its_stateless_run_ended_is_accepted(
    client: LangGraphClient, server: Server
) -> None:
    """An at-least-once broker may deliver an event again after its stateless run ran and
    went with its thread: the effect is done, so 202 with the run's id (a 409 would be
    retried, then dead-lettered), and no second run."""
    data = {"assistant_id": "echo", "input": {"items": []}}
    event_id = str(uuid.uuid4())
    first = (await _post(server, data, id=event_id)).json()
    await client.runs.join(first["thread_id"], first["run_id"])
    deadline = time.monotonic() + 10
    while await _thread_exists(server, first["thread_id"]):  # removed just after the end
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    again = await _post(server, data, id=event_id, structured=True)
    assert again.status_code == 202, again.text
    assert again.json() == {"run_id": first["run_id"]}


async def test_an_event_finding_a_busy_thread_that_rejects_is_still_409(
    client: LangGraphClient, server: Server
) -> None:
    tid = (await client.threads.create())["thread_id"]
    slow = {"assistant_id": "slow", "input": {"items": []}, "thread_id": tid}
    busy = await _post(server, {**slow, "config": {"configurable": {"sleep": 0.5}}})
    refused = await _post(server, {**slow, "multitask_strategy": "reject"})
    assert refused.status_code == 409, refused.text
    await client.runs.join(tid, busy.json()["run_id"])
    assert len(await client.runs.list(tid)) == 1


async def _thread_exists(server: Server, thread_id: str) -> bool:
    async with httpx.AsyncClient(timeout=30) as http:
        return (await http.get(f"{server.url}/threads/{thread_id}")).status_code == 200


async def test_bad_events_are_refused_and_change_nothing(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    good = {"assistant_id": "echo", "thread_id": tid}
    cases = [
        (await _post(server, good, type="com.example.other"), 400, "not accepted"),
        (await _post(server, {"thread_id": tid}), 400, "assistant_id"),
        (await _post(server, {**good, "stream_mode": "nope"}), 400, "stream_mode"),
        (await _post(server, {**good, "assistant_id": "no-such-graph"}), 422, "not found"),
        (await _post(server, {**good, "thread_id": str(uuid.uuid4())}), 404, "not found"),
    ]
    for response, status, detail in cases:
        assert response.status_code == status, response.text
        assert detail in response.json()["detail"]
    no_id = {"ce-type": RUN_CREATE, "ce-source": "/x", "ce-specversion": "1.0"}
    for headers, body in [
        ({**no_id, "content-type": "application/json"}, orjson.dumps(good)),
        ({"content-type": "application/json"}, b"not json"),
    ]:
        response = await _send(server, headers, body)
        assert response.status_code == 400
        assert "not a CloudEvent" in response.json()["detail"]
    assert await client.runs.list(tid) == []
