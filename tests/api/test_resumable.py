"""Resumable run streams, joins and the thread stream (Agent Server "Resumable streams").

Through the official SDK (``runs.join_stream``, ``threads.join_stream``), and raw httpx where
the SSE wire format itself is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamPart

from tests.support import Server, sdk, start

WAIT = 60.0


def _ids(parts: list[StreamPart]) -> list[int]:
    return [int(p.id) for p in parts if p.id is not None]


def _strictly_increasing(ids: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(ids))


async def _finished_resumable_run(
    client: LangGraphClient, graph: str = "echo", **kwargs: Any
) -> tuple[str, str, list[StreamPart]]:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(
            tid, graph, input={"items": []}, stream_resumable=True, **kwargs
        )
    ]
    return tid, parts[0].data["run_id"], parts


async def _join(client: LangGraphClient, tid: str, rid: str, **kwargs: Any) -> list[StreamPart]:
    async with asyncio.timeout(WAIT):
        return [p async for p in client.runs.join_stream(tid, rid, **kwargs)]


async def _read_then_leave(stream: AsyncIterator[StreamPart], count: int) -> list[StreamPart]:
    """The first ``count`` parts of an SDK stream, then the client disconnects."""
    parts: list[StreamPart] = []
    async with asyncio.timeout(WAIT), contextlib.aclosing(stream):
        async for part in stream:
            parts.append(part)
            if len(parts) == count:
                break
    return parts


async def _leave_resumable_run(
    client: LangGraphClient, graph: str, count: int
) -> tuple[str, list[StreamPart]]:
    """Start a resumable ``updates`` stream of ``graph`` (0.2 s per step) on a new thread and
    leave after ``count`` parts; returns the thread id and those parts."""
    thread = await client.threads.create()
    stream = client.runs.stream(
        thread["thread_id"],
        graph,
        input={"items": []},
        stream_mode="updates",
        stream_resumable=True,
        config={"configurable": {"sleep": 0.2}},
    )
    return thread["thread_id"], await _read_then_leave(stream, count)


# --- resumable run streams -------------------------------------------------------------------


async def test_resumable_stream_has_increasing_ids_on_every_event(
    client: LangGraphClient,
) -> None:
    _, _, parts = await _finished_resumable_run(client, stream_mode=["values", "custom"])
    assert [p.event for p in parts] == ["metadata", "values", "custom", "values"]
    assert all(p.id is not None for p in parts)
    assert _strictly_increasing(_ids(parts))


async def test_non_resumable_stream_has_no_ids(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = [p async for p in client.runs.stream(thread["thread_id"], "echo", input={})]
    assert parts and all(p.id is None for p in parts)


async def test_join_with_minus_one_replays_everything_after_the_run(
    client: LangGraphClient,
) -> None:
    tid, rid, parts = await _finished_resumable_run(client, stream_mode=["values", "custom"])
    replay = await _join(client, tid, rid, last_event_id="-1")
    assert replay[0].event == "metadata"
    assert [(p.event, p.data, p.id) for p in replay] == [(p.event, p.data, p.id) for p in parts]


async def test_join_resumes_after_last_event_id(client: LangGraphClient) -> None:
    tid, rid, parts = await _finished_resumable_run(client, stream_mode=["values", "custom"])
    replay = await _join(client, tid, rid, last_event_id=parts[1].id)
    assert [p.id for p in replay] == [p.id for p in parts[2:]]
    assert await _join(client, tid, rid, last_event_id=parts[-1].id) == []
    assert await _join(client, tid, rid, last_event_id=str(2**40)) == []


async def test_join_stream_mode_filters_the_replay(client: LangGraphClient) -> None:
    tid, rid, _ = await _finished_resumable_run(client, stream_mode=["values", "updates", "custom"])
    replay = await _join(client, tid, rid, last_event_id="-1", stream_mode=["custom", "updates"])
    assert [p.event for p in replay] == ["custom", "updates"]
    only = await _join(client, tid, rid, last_event_id="-1", stream_mode="values")
    assert [p.event for p in only] == ["values", "values"]


async def test_reconnect_during_a_run_replays_missed_events_then_follows_live(
    client: LangGraphClient,
) -> None:
    tid, first = await _leave_resumable_run(client, "slow", 2)  # gone after the first step
    rid = first[0].data["run_id"]
    rest = await _join(client, tid, rid, last_event_id=first[-1].id)
    assert [p.event for p in rest] == ["updates", "updates"]
    assert [p.data for p in first[1:] + rest] == [
        {f"step_{i}": {"items": ["nap"]}} for i in (1, 2, 3)
    ]
    everything = await _join(client, tid, rid, last_event_id="-1")
    assert [p.id for p in everything] == [p.id for p in first + rest]
    assert (await client.runs.get(tid, rid))["status"] == "success"


async def test_join_of_finished_non_resumable_run_is_empty(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "echo", input={})
    await client.runs.join(tid, run["run_id"])
    assert await _join(client, tid, run["run_id"]) == []


async def test_join_while_running_sees_only_new_events(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(
        tid, "slow", input={"items": []}, config={"configurable": {"sleep": 0.5}}
    )
    rid = run["run_id"]
    # metadata and the input's values: the run is under way
    seen = await _read_then_leave(client.runs.join_stream(tid, rid, last_event_id="-1"), 2)
    live = await _join(client, tid, rid)
    assert live, "the join saw no events"
    assert "metadata" not in [p.event for p in live]
    assert live[-1].data == {"items": ["nap", "nap", "nap"]}
    everything = await _join(client, tid, rid, last_event_id="-1")
    all_ids = [p.id for p in everything]
    assert [p.id for p in live] == all_ids[len(all_ids) - len(live) :]
    assert int(live[0].id) > int(seen[-1].id)


async def test_join_of_unknown_run_is_one_error_event(client: LangGraphClient) -> None:
    """As the official server answers: 200 and an ``error`` event, not an HTTP 404."""
    thread = await client.threads.create()
    parts = await _join(client, thread["thread_id"], "00000000-0000-7000-8000-000000000000")
    assert [(p.event, p.data) for p in parts] == [
        ("error", {"error": "HTTPException", "message": "404: Run not found"})
    ]


# --- the SSE wire format ---------------------------------------------------------------------


def _frames(body: str) -> list[dict[str, str]]:
    """SSE frames of a CRLF body as ``{field: value}`` (comments under ``":"``)."""
    frames = []
    for block in body.split("\r\n\r\n"):
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.split("\r\n"):
            name, _, value = line.partition(": ") if not line.startswith(":") else (":", "", line)
            fields[name] = value
        frames.append(fields)
    return frames


async def test_wire_format_of_a_resumable_thread_run_stream(
    client: LangGraphClient, server: Server
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    body = {"assistant_id": "echo", "input": {}, "stream_mode": ["custom"]}
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        resumable = await http.post(
            f"/threads/{tid}/runs/stream", json={**body, "stream_resumable": True}
        )
        plain = await http.post(f"/threads/{tid}/runs/stream", json=body)
    assert resumable.status_code == 200
    assert resumable.headers["content-type"].startswith("text/event-stream")
    frames = _frames(resumable.text)
    assert [f["event"] for f in frames] == ["metadata", "custom"]
    assert all(set(f) == {"event", "data", "id"} for f in frames)
    rid = frames[0]["data"].split('"run_id":"')[1].split('"')[0]
    assert resumable.headers["location"] == f"/threads/{tid}/runs/{rid}/stream"
    assert resumable.headers["content-location"] == f"/threads/{tid}/runs/{rid}"
    assert frames[1]["data"] == '{"hello":"world"}'
    assert [int(f["id"]) for f in frames] == [1, 2]
    assert resumable.text.endswith("\r\n\r\n")
    assert all(set(f) == {"event", "data"} for f in _frames(plain.text))


async def test_wire_format_of_a_stateless_stream_and_its_join(
    client: LangGraphClient, server: Server
) -> None:
    body = {"assistant_id": "echo", "input": {}, "stream_resumable": True, "on_completion": "keep"}
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        res = await http.post("/runs/stream", json=body)
        frames = _frames(res.text)
        rid = frames[0]["data"].split('"run_id":"')[1].split('"')[0]
        assert res.headers["location"] == f"/runs/{rid}/stream"
        assert res.headers["content-location"] == f"/runs/{rid}"
        join = await http.get(res.headers["location"], headers={"Last-Event-ID": "1"})
    assert join.headers["content-type"].startswith("text/event-stream")
    assert [f["id"] for f in _frames(join.text)] == [f["id"] for f in frames[1:]]


# --- the thread stream -----------------------------------------------------------------------


async def _thread_parts(
    client: LangGraphClient,
    tid: str,
    until: Callable[[list[StreamPart]], bool],
    action: Callable[[list[StreamPart]], Any] | None = None,
    **kwargs: Any,
) -> list[StreamPart]:
    """Read the endless thread stream until ``until(parts)``; ``action(parts)`` runs after each
    part (the stream is already connected then)."""
    parts: list[StreamPart] = []
    stream = await client.threads.join_stream(tid, **kwargs)
    async with asyncio.timeout(WAIT), contextlib.aclosing(stream):
        async for part in stream:
            parts.append(part)
            if until(parts):
                return parts
            if action is not None:
                await action(parts)
    raise AssertionError(f"thread stream ended by itself after {parts}")


def _run_done(parts: list[StreamPart]) -> list[str]:
    return [p.data["run_id"] for p in parts if p.data and p.data.get("status") == "run_done"]


async def _thread_with_finished_runs(client: LangGraphClient) -> str:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(
        tid, "echo", input={"items": []}, stream_mode=["values", "custom"]
    )
    await client.runs.join(tid, run["run_id"])
    await client.runs.wait(tid, "fail", input={"items": []}, raise_error=False)
    return tid


async def test_thread_stream_follows_runs_that_start_while_connected(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    old = await client.runs.wait(tid, "echo", input={"items": ["old"]})
    assert old == {"items": ["old", "one"]}
    # the first run waits a second before it starts, so it surely starts while connected
    first = await client.runs.create(tid, "echo", input={"items": []}, after_seconds=1)
    created: list[str] = []

    async def second_run_after_first_ends(parts: list[StreamPart]) -> None:
        if _run_done(parts) == [first["run_id"]] and not created:
            run = await client.runs.create(tid, "echo", input={}, stream_mode="custom")
            created.append(run["run_id"])

    parts = await _thread_parts(
        client, tid, lambda p: len(_run_done(p)) == 2, second_run_after_first_ends
    )
    assert _run_done(parts) == [first["run_id"], created[0]]
    assert [p.event for p in parts] == [
        "metadata",
        "values",
        "values",
        "metadata",
        "metadata",
        "custom",
        "metadata",
    ]
    assert parts[0].data["run_id"] == first["run_id"]
    assert parts[1].data == {"items": ["old", "one"]}  # the old run itself is not replayed
    assert all(p.id is not None for p in parts)
    assert _strictly_increasing(_ids(parts))


async def test_thread_stream_resumes_after_last_event_id(client: LangGraphClient) -> None:
    tid = await _thread_with_finished_runs(client)
    everything = await _thread_parts(
        client, tid, lambda p: len(_run_done(p)) == 2, last_event_id="-1"
    )
    assert [p.event for p in everything] == [
        "metadata",
        "values",
        "custom",
        "values",
        "metadata",
        "metadata",
        "values",
        "error",
        "metadata",
    ]
    assert _strictly_increasing(_ids(everything))
    last_run = everything[-1].data["run_id"]
    for cut in (2, 4, 5):
        rest = await _thread_parts(
            client, tid, lambda p: last_run in _run_done(p), last_event_id=everything[cut].id
        )
        assert [p.id for p in rest] == [p.id for p in everything[cut + 1 :]]


async def test_thread_stream_lifecycle_sends_only_run_starts_and_ends(
    client: LangGraphClient,
) -> None:
    tid = await _thread_with_finished_runs(client)
    parts = await _thread_parts(
        client,
        tid,
        lambda p: len(_run_done(p)) == 2,
        last_event_id="-1",
        stream_mode="lifecycle",
    )
    assert [p.event for p in parts] == ["metadata"] * 4
    runs = await client.runs.list(tid)
    run_ids = [r["run_id"] for r in reversed(runs)]
    assert [p.data["run_id"] for p in parts] == [run_ids[0], run_ids[0], run_ids[1], run_ids[1]]
    assert [p.data.get("status") for p in parts] == [None, "run_done", None, "run_done"]


async def test_thread_stream_run_modes_send_only_those_run_events(
    client: LangGraphClient,
) -> None:
    """A deliberate difference from the official server: run stream modes, which the JS SDK's
    ``joinStream`` may send as ``stream_mode``, keep only those run events (the official server
    ignores ``stream_mode`` and refuses run modes in ``stream_modes``); beside ``lifecycle``
    the run starts and ends come too."""
    tid = await _thread_with_finished_runs(client)

    def until_error(parts: list[StreamPart]) -> bool:
        return parts[-1].event == "error"

    only = await _thread_parts(
        client, tid, until_error, last_event_id="-1", stream_mode=["custom", "error"]
    )
    assert [p.event for p in only] == ["custom", "error"]
    with_lifecycle = await _thread_parts(
        client,
        tid,
        lambda p: len(_run_done(p)) == 2,
        last_event_id="-1",
        stream_mode=["values", "lifecycle"],
    )
    assert [p.event for p in with_lifecycle] == [
        "metadata",
        "values",
        "values",
        "metadata",
        "metadata",
        "values",
        "metadata",
    ]


async def test_thread_stream_stays_open_with_heartbeats(
    client: LangGraphClient, server: Server
) -> None:
    tid = await _thread_with_finished_runs(client)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http,
        http.stream("GET", f"/threads/{tid}/stream", headers={"Last-Event-ID": "-1"}) as res,
    ):
        assert res.headers["content-type"].startswith("text/event-stream")
        text = ""
        async with asyncio.timeout(WAIT):
            async for chunk in res.aiter_text():
                text += chunk
                if ": heartbeat\r\n" in text:
                    break
    frames = _frames(text.split(": heartbeat")[0])
    assert all("id" in f for f in frames)
    assert [f["event"] for f in frames][-1] == "metadata"
    assert '"status":"run_done"' in frames[-1]["data"]


async def test_thread_stream_bad_input(client: LangGraphClient, server: Server) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        unknown = await http.get("/threads/00000000-0000-7000-8000-000000000000/stream")
        bad_mode = await http.get(f"/threads/{tid}/stream", params={"stream_mode": "nope"})
        bad_ids = [
            await http.get(f"/threads/{tid}/stream", headers={"Last-Event-ID": value})
            for value in ("x", "-2", str(2**100))
        ]
    assert unknown.status_code == 404
    assert bad_mode.status_code == 422
    assert bad_mode.json()["detail"] == "Invalid stream mode: nope"  # the official detail
    assert [r.status_code for r in bad_ids] == [422, 422, 422]
    assert all(r.json()["detail"] for r in bad_ids)


# --- ids across executor attempts ------------------------------------------------------------


@pytest.fixture
def crashable(tmp_path: Path) -> Any:
    """A server of its own, with short leases so a crashed run is taken over quickly."""
    env = {"LG_DEPLOY_LEASE_SECONDS": "2", "LG_DEPLOY_SWEEP_SECONDS": "0.5"}
    servers = [start("dev", data_dir=tmp_path / "data", log=tmp_path / "log", env=env)]

    def restart() -> Server:
        servers[-1].kill_group()
        port = servers[-1].port
        servers.append(
            start("dev", data_dir=tmp_path / "data", log=tmp_path / "log", env=env, port=port)
        )
        return servers[-1]

    yield servers[0], restart
    servers[-1].stop()


async def test_ids_keep_increasing_across_executor_attempts(crashable: Any) -> None:
    server, restart = crashable
    async with sdk(server) as client:
        tid, before = await _leave_resumable_run(client, "steps", 4)
    rid = before[0].data["run_id"]
    server = await asyncio.to_thread(restart)
    async with sdk(server) as client:
        everything = await _join(client, tid, rid, last_event_id="-1")
        run = await client.runs.get(tid, rid)
    assert run["status"] == "success"
    ids = _ids(everything)
    assert len(ids) == len(everything) and _strictly_increasing(ids)
    attempts = [p.data["attempt"] for p in everything if p.event == "metadata"]
    assert attempts == [1, 2]
    assert [p.id for p in everything[:4]] == [p.id for p in before]
    steps = [next(iter(p.data)) for p in everything if p.event == "updates"]
    assert steps[-1] == "step_20"
