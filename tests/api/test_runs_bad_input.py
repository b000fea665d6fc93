"""Bad input to the run endpoints: a clear 4xx JSON error and nothing written."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

ZERO = "00000000-0000-0000-0000-000000000000"


async def _thread(http: httpx.AsyncClient) -> str:
    return str((await http.post("/threads", json={})).json()["thread_id"])


async def _run_count(http: httpx.AsyncClient, tid: str) -> int:
    return len((await http.get(f"/threads/{tid}/runs", params={"limit": 1000})).json())


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"assistant_id": "no-such-graph"}, 422),
        ({"assistant_id": ZERO}, 404),
        ({}, 422),
        ({"assistant_id": "echo", "stream_mode": "bogus"}, 422),
        ({"assistant_id": "echo", "multitask_strategy": "sometimes"}, 422),
        ({"assistant_id": "echo", "after_seconds": -1}, 422),
        ({"assistant_id": "echo", "config": {"recursion_limit": 0}}, 422),
        (
            {"assistant_id": "echo", "config": {"configurable": {"a": 1}}, "context": {"a": 1}},
            400,
        ),
        ({"assistant_id": "echo", "interrupt_before": "some"}, 422),
    ],
)
async def test_invalid_run_bodies_are_rejected_and_write_nothing(
    http: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    tid = await _thread(http)
    for suffix in ("", "/wait", "/stream"):
        response = await http.post(f"/threads/{tid}/runs{suffix}", json=body)
        assert response.status_code == status, (suffix, response.text)
        assert "detail" in response.json()
    assert await _run_count(http, tid) == 0
    thread = (await http.get(f"/threads/{tid}")).json()
    assert thread["status"] == "idle" and thread["metadata"] == {}


async def test_unknown_thread_is_404_and_not_created(http: httpx.AsyncClient) -> None:
    tid = str(uuid.uuid4())
    response = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "echo"})
    assert response.status_code == 404
    assert (await http.get(f"/threads/{tid}")).status_code == 404


async def test_invalid_ids_are_422_unknown_ids_404(http: httpx.AsyncClient) -> None:
    tid = await _thread(http)
    assert (await http.get("/threads/not-a-uuid/runs")).status_code == 422
    assert (await http.get(f"/threads/{tid}/runs/not-a-uuid")).status_code == 422
    assert (await http.get(f"/threads/{tid}/runs/{ZERO}")).status_code == 404
    assert (await http.get(f"/threads/{ZERO}/runs")).status_code == 404
    # joins answer 200 with the error in the body, as the official server does
    join = await http.get(f"/threads/{tid}/runs/{ZERO}/join")
    assert join.status_code == 200 and "__error__" in join.json()
    joined = await http.get(f"/threads/{tid}/runs/{ZERO}/stream")
    assert joined.status_code == 200 and joined.text.startswith("event: error\r\n")
    assert (await http.delete(f"/threads/{tid}/runs/{ZERO}")).status_code == 404


async def test_malformed_json_is_422(http: httpx.AsyncClient) -> None:
    tid = await _thread(http)
    response = await http.post(
        f"/threads/{tid}/runs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert await _run_count(http, tid) == 0


async def test_oversized_body_is_413_and_writes_nothing(http: httpx.AsyncClient) -> None:
    tid = await _thread(http)
    huge = {"assistant_id": "echo", "input": {"items": ["x" * (11 * 1024 * 1024)]}}
    response = await http.post(f"/threads/{tid}/runs", json=huge)
    assert response.status_code == 413
    assert await _run_count(http, tid) == 0


async def test_bulk_cancel_mixing_forms_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post("/runs/cancel", json={"status": "all", "run_ids": [ZERO]})
    assert response.status_code == 422
    response = await http.post("/runs/cancel", json={"status": "sometimes"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/threads", {"metadata": {"a": "nul\u0000here"}}),
        ("/threads", {"metadata": {"n": float("nan")}}),
        ("/assistants", {"graph_id": "echo", "name": "bad\u0000name"}),
        ("/runs", {"assistant_id": "echo", "input": {"items": [float("inf")]}}),
    ],
)
async def test_values_postgres_cannot_store_are_422(
    http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    threads_before = (await http.post("/threads/count", json={})).json()
    content = json.dumps(body, allow_nan=True).encode()
    response = await http.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert (await http.post("/threads/count", json={})).json() == threads_before
