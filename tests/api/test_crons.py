"""Crons through the official SDK against ``lg-deploy dev``: create (thread and stateless),
get, search, count, update, delete, bad input that must change nothing, and the dev timer
firing a ``* * * * *`` cron. Source: Agent Server API, "Crons".

Ticks at synthetic times with several cron replicas: tests/integration/test_cron_ticks.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import BadRequestError, NotFoundError

from shared.ids import system_assistant_id
from tests.faults.helpers import eventually

MISSING = str(uuid.uuid4())
ECHO = str(system_assistant_id("echo"))


def tag() -> dict[str, str]:
    """Metadata that singles out one test's crons."""
    return {"test": uuid.uuid4().hex}


def when(value: str) -> datetime:
    """An API timestamp as a datetime."""
    return datetime.fromisoformat(value)


async def test_thread_cron_is_stored_with_its_payload(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    thread = await client.threads.create()
    before = datetime.now(UTC)
    cron = await client.crons.create_for_thread(
        thread["thread_id"],
        "echo",
        schedule="*/5 * * * *",
        input={"items": ["x"]},
        metadata=(meta := tag()),
        multitask_strategy="reject",
        stream_mode=["values", "custom"],
    )
    try:
        assert cron["thread_id"] == thread["thread_id"] and cron["assistant_id"] == ECHO
        assert cron["schedule"] == "*/5 * * * *" and cron["timezone"] is None
        assert cron["user_id"] is None and cron["end_time"] is None and cron["enabled"] is True
        assert cron["on_run_completed"] is None and cron["metadata"] == meta
        assert cron["payload"] == {
            "assistant_id": ECHO,
            "input": {"items": ["x"]},
            "metadata": meta,
            "multitask_strategy": "reject",
            "stream_mode": ["values", "custom"],
        }
        next_run = when(cron["next_run_date"])
        assert before < next_run <= before + timedelta(minutes=5)
        assert next_run.minute % 5 == 0 and next_run.second == 0
        got = await http.get(f"/runs/crons/{cron['cron_id']}")
        assert got.status_code == 200 and got.json() == cron
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_stateless_cron_reads_its_schedule_in_its_timezone(client: LangGraphClient) -> None:
    end = datetime.now(UTC) + timedelta(days=30)
    cron = await client.crons.create(
        "echo",
        schedule="0 9 * * *",
        timezone="Asia/Tokyo",
        end_time=end,
        on_run_completed="keep",
    )
    try:
        assert cron["thread_id"] is None and cron["on_run_completed"] == "keep"
        assert cron["timezone"] == "Asia/Tokyo" and when(cron["end_time"]) == end
        next_run = when(cron["next_run_date"]).astimezone(UTC)
        assert (next_run.hour, next_run.minute) == (0, 0)  # 09:00 in Tokyo
        assert datetime.now(UTC) < next_run <= datetime.now(UTC) + timedelta(days=1)
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_stateless_cron_deletes_its_threads_by_default(client: LangGraphClient) -> None:
    cron = await client.crons.create("echo", schedule="0 0 1 1 *")
    try:
        assert cron["on_run_completed"] == "delete" and cron["next_run_date"] is not None
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_search_and_count_filter_sort_select_and_paginate(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    meta = tag()
    thread = await client.threads.create()
    tid = thread["thread_id"]
    made = [
        await client.crons.create_for_thread(tid, "echo", schedule="0 3 * * *", metadata=meta),
        await client.crons.create("echo", schedule="0 1 * * *", metadata=meta, enabled=False),
        await client.crons.create("slow", schedule="0 2 * * *", metadata=meta),
    ]
    ids = [c["cron_id"] for c in made]
    try:
        found = await client.crons.search(metadata=meta, limit=10)
        assert [c["cron_id"] for c in found] == ids[::-1]  # newest first by default
        assert await client.crons.count(metadata=meta) == 3
        assert [c["cron_id"] for c in await client.crons.search(thread_id=tid)] == [ids[0]]
        assert await client.crons.count(thread_id=tid) == 1
        by_graph = await client.crons.search(assistant_id="echo", metadata=meta)
        assert {c["cron_id"] for c in by_graph} == set(ids[:2])
        assert await client.crons.count(assistant_id=ECHO, metadata=meta) == 2
        disabled = await client.crons.search(metadata=meta, enabled=False)
        assert [c["cron_id"] for c in disabled] == [ids[1]]
        by_next = await client.crons.search(
            metadata=meta, sort_by="next_run_date", sort_order="asc"
        )
        dates = [when(c["next_run_date"]) for c in by_next]
        assert dates == sorted(dates)
        slim = await client.crons.search(metadata=meta, select=["cron_id", "schedule"])
        assert all(set(c) == {"cron_id", "schedule"} for c in slim)
        body = {"metadata": meta, "limit": 2, "offset": 0}
        first = await http.post("/runs/crons/search", json=body)
        assert len(first.json()) == 2
        assert first.headers["X-Pagination-Total"] == "3"
        assert first.headers["X-Pagination-Next"] == "2"
        last = await http.post("/runs/crons/search", json={**body, "offset": 2})
        assert len(last.json()) == 1 and "X-Pagination-Next" not in last.headers
    finally:
        for cron_id in ids:
            await client.crons.delete(cron_id)
    assert await client.crons.count(metadata=meta) == 0


async def test_update_replaces_fields_merges_metadata_and_moves_next_run(
    client: LangGraphClient,
) -> None:
    end = datetime.now(UTC) + timedelta(days=7)
    cron = await client.crons.create(
        "echo",
        schedule="0 0 1 1 *",
        input={"items": ["a"]},
        metadata={"a": 1},
        end_time=end,
    )
    cid = cron["cron_id"]
    try:
        updated = await client.crons.update(
            cid,
            schedule="0 * * * *",
            input={"items": ["b"]},
            metadata={"b": 2},
            on_run_completed="keep",
            enabled=False,
            timezone="Europe/Paris",
        )
        assert updated["schedule"] == "0 * * * *" and updated["timezone"] == "Europe/Paris"
        assert updated["enabled"] is False and updated["on_run_completed"] == "keep"
        assert updated["metadata"] == {"a": 1, "b": 2}
        assert updated["payload"]["input"] == {"items": ["b"]}
        assert updated["payload"]["metadata"] == {"a": 1, "b": 2}
        next_run = when(updated["next_run_date"])
        assert next_run.minute == 0 and next_run <= datetime.now(UTC) + timedelta(hours=1)
        assert when(updated["end_time"]) == end
        assert when(updated["updated_at"]) > when(cron["updated_at"])
        # end_time left out: kept; end_time null: cleared
        kept = await client.crons.update(cid, enabled=True)
        assert kept["enabled"] is True and when(kept["end_time"]) == end
        cleared = await client.crons.update(cid, end_time=None)
        assert cleared["end_time"] is None and cleared["schedule"] == "0 * * * *"
    finally:
        await client.crons.delete(cid)


async def test_delete_removes_the_cron_and_deleting_its_thread_too(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    cron = await client.crons.create("echo", schedule="0 0 1 1 *")
    await client.crons.delete(cron["cron_id"])
    assert (await http.get(f"/runs/crons/{cron['cron_id']}")).status_code == 404
    with pytest.raises(NotFoundError):
        await client.crons.delete(cron["cron_id"])
    thread = await client.threads.create()
    on_thread = await client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule="0 0 1 1 *"
    )
    await client.threads.delete(thread["thread_id"])
    assert (await http.get(f"/runs/crons/{on_thread['cron_id']}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"assistant_id": "echo", "schedule": "every minute"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * *"}, 422),
        ({"assistant_id": "echo", "schedule": "0 * * * * *"}, 422),  # seconds: not 5 fields
        ({"assistant_id": "echo", "schedule": "61 * * * *"}, 422),
        ({"assistant_id": "echo", "schedule": "0 0 30 2 *"}, 422),  # never fires
        ({"assistant_id": "echo", "schedule": "* * * * *", "timezone": "Mars/Olympus"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * * *", "timezone": "../etc/passwd"}, 422),
        ({"assistant_id": "echo"}, 422),
        ({"schedule": "* * * * *"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * * *", "end_time": "soon"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * * *", "stream_mode": "bogus"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * * *", "webhook": "ftp://x.example"}, 422),
        ({"assistant_id": "echo", "schedule": "* * * * *", "webhook": "/relative"}, 422),
        ({"assistant_id": "no-such-graph", "schedule": "* * * * *"}, 422),
        ({"assistant_id": MISSING, "schedule": "* * * * *"}, 404),
        (
            {
                "assistant_id": "echo",
                "schedule": "* * * * *",
                "config": {"configurable": {"a": 1}},
                "context": {"a": 1},
            },
            400,
        ),
    ],
)
async def test_invalid_cron_bodies_are_rejected_and_create_nothing(
    client: LangGraphClient, http: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    thread = await client.threads.create()
    before = await client.crons.count()
    for path in ("/runs/crons", f"/threads/{thread['thread_id']}/runs/crons"):
        response = await http.post(path, json=body)
        assert response.status_code == status, (path, response.text)
        assert "detail" in response.json()
    assert await client.crons.count() == before


async def test_stateless_cron_with_unknown_on_run_completed_is_422(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    before = await client.crons.count()
    body = {"assistant_id": "echo", "schedule": "* * * * *", "on_run_completed": "x"}
    assert (await http.post("/runs/crons", json=body)).status_code == 422
    assert await client.crons.count() == before


async def test_thread_cron_on_a_missing_thread_is_404(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    before = await client.crons.count()
    with pytest.raises(NotFoundError):
        await client.crons.create_for_thread(MISSING, "echo", schedule="* * * * *")
    response = await http.post("/threads/not-a-uuid/runs/crons", json={"assistant_id": "echo"})
    assert response.status_code == 422
    assert await client.crons.count() == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"unknown_field": 1}, 400),
        ({"schedule": None}, 400),
        ({"schedule": "not a schedule"}, 422),
        ({"timezone": "Nowhere/Land"}, 422),
        ({"enabled": "sometimes"}, 422),
        ({"context": {"a": 1}}, 400),  # the cron's config has configurable
        ({"webhook": "http://169.254.169.254/latest"}, 422),  # cloud metadata address
    ],
)
async def test_invalid_updates_are_rejected_and_change_nothing(
    client: LangGraphClient, http: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    cron = await client.crons.create(
        "echo", schedule="0 0 1 1 *", config={"configurable": {"a": 1}}
    )
    try:
        response = await http.patch(f"/runs/crons/{cron['cron_id']}", json=body)
        assert response.status_code == status, response.text
        assert "detail" in response.json()
        assert (await http.get(f"/runs/crons/{cron['cron_id']}")).json() == cron
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_unknown_crons_are_404_and_bad_ids_422(
    client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    assert (await http.get(f"/runs/crons/{MISSING}")).status_code == 404
    with pytest.raises(NotFoundError):
        await client.crons.update(MISSING, enabled=False)
    with pytest.raises(BadRequestError):
        await client.crons.update(MISSING)  # empty body: refused before the lookup
    assert (await http.get("/runs/crons/not-a-uuid")).status_code == 422
    bad_search = await http.post("/runs/crons/search", json={"select": ["nope"]})
    assert bad_search.status_code == 422
    assert (await http.post("/runs/crons/search", json={"limit": 0})).status_code == 422
    assert (await http.post("/runs/crons/count", json={"thread_id": "x"})).status_code == 422


@pytest.mark.slow
async def test_dev_timer_fires_a_minutely_cron_at_its_due_minute(client: LangGraphClient) -> None:
    """Waits for the next minute boundary (up to a minute) on the dev server's own timer."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    cron = await client.crons.create_for_thread(
        tid, "echo", schedule="* * * * *", input={"items": ["tick"]}
    )
    try:
        runs = await eventually(
            lambda: client.runs.list(tid), within=90, what="the cron's first run", interval=0.5
        )
        assert len(runs) == 1
        assert runs[0]["metadata"]["cron_id"] == cron["cron_id"]
        fired = await client.runs.join(tid, runs[0]["run_id"])
        assert fired == {"items": ["tick", "one"]}
        moved = (await client.crons.search(thread_id=tid))[0]
        first_due = when(cron["next_run_date"])
        assert when(moved["next_run_date"]) == first_due + timedelta(minutes=1)
    finally:
        await client.crons.delete(cron["cron_id"])
