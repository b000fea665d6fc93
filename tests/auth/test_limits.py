"""Per-tenant limits and fair claims, against real ``lg-deploy`` processes on one PostgreSQL.

Every server here is an open deployment (no keys yet), whose callers are the ``default``
tenant's admin: limits come from ``LG_DEPLOY_TENANT_*`` and ``PUT /tenants/default/limits``.
A second tenant (the fairness test) is made in PostgreSQL, by moving runs created through the
API to it; ``test_limits_keys.py`` shows the same between tenants of built-in API keys.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import RateLimitError

from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from tests.faults.helpers import eventually
from tests.support import Server, create_database, postgres_dir, sdk, start

HOUR = "3600"  # rate windows start on the hour: a test crossing one is very unlikely


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server for this module's tests (each test makes a database of its own)."""
    with postgres_dir("limits") as base:
        yield start_embedded_postgres(base / "data")
        stop_embedded_postgres(base / "data")


@pytest.fixture
async def database(postgres: str) -> str:
    """A fresh, empty database on :func:`postgres`; its URI."""
    return await create_database(postgres, "limits")


@asynccontextmanager
async def serving(
    database: str, tmp_path: Path, env: dict[str, str], command: str = "dev"
) -> AsyncIterator[Server]:
    """``lg-deploy <command>`` on ``database`` with ``env``, stopped on exit."""
    server = start(
        command,
        database_url=database,
        env=env,
        log=tmp_path / f"{command}-{uuid.uuid4().hex[:6]}.log",
    )
    try:
        yield server
    finally:
        server.stop()


def _field(headers: httpx.Headers, name: str) -> dict[str, str]:
    """The parameters of the one item of a ``RateLimit``/``RateLimit-Policy`` field."""
    item, *params = headers[name].split(";")
    assert item == '"tenant"', headers[name]
    return dict(p.split("=", 1) for p in params)


async def _fetch(database: str, query: str) -> list[tuple[Any, ...]]:
    """The rows of ``query`` on ``database``, as tuples."""
    conn = await asyncpg.connect(database)
    try:
        return [tuple(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


async def _runs_on_new_threads(
    client: LangGraphClient, n: int, graph: str, sleep: float | None = None
) -> list[dict[str, Any]]:
    """``n`` background runs of ``graph``, each on a new thread (``sleep``: per step)."""
    config = {"configurable": {"sleep": sleep}} if sleep is not None else None
    runs = []
    for _ in range(n):
        thread_id = (await client.threads.create())["thread_id"]
        runs.append(dict(await client.runs.create(thread_id, graph, input={}, config=config)))
    return runs


async def test_requests_over_the_rate_limit_are_429_with_retry_after_and_ratelimit_headers(
    database: str, tmp_path: Path
) -> None:
    env = {
        "LG_DEPLOY_TENANT_REQUESTS_PER_WINDOW": "5",
        "LG_DEPLOY_TENANT_RATE_WINDOW_SECONDS": HOUR,
    }
    async with serving(database, tmp_path, env) as server, sdk(server) as client:
        async with httpx.AsyncClient(base_url=server.url) as http:
            first = await http.post("/threads/search", json={"limit": 1})
        assert first.status_code == 200
        assert _field(first.headers, "RateLimit-Policy") == {"q": "5", "w": HOUR}
        answer = _field(first.headers, "RateLimit")
        assert answer["r"] == "4" and 0 < int(answer["t"]) <= 3600
        for _ in range(4):
            await client.threads.search(limit=1)
        with pytest.raises(RateLimitError) as refused:
            await client.threads.search(limit=1)
        response = refused.value.response
        assert "rate window" in response.json()["detail"]
        assert _field(response.headers, "RateLimit")["r"] == "0"
        retry_after = int(response.headers["Retry-After"])
        assert retry_after == int(_field(response.headers, "RateLimit")["t"]) > 0
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/ok")).status_code == 200  # open paths are not limited


async def test_a_run_beyond_the_queued_runs_limit_is_429_and_not_created(
    database: str, tmp_path: Path
) -> None:
    # nothing may run, so every run stays queued
    env = {"LG_DEPLOY_TENANT_MAX_QUEUED_RUNS": "2", "LG_DEPLOY_TENANT_MAX_RUNNING_RUNS": "0"}
    async with serving(database, tmp_path, env) as server, sdk(server) as client:
        threads = [(await client.threads.create())["thread_id"] for _ in range(3)]
        for thread_id in threads[:2]:
            await client.runs.create(thread_id, "echo", input={"items": []})
        with pytest.raises(RateLimitError) as refused:
            await client.runs.create(threads[2], "echo", input={"items": []})
        assert "2 queued runs" in refused.value.response.json()["detail"]
        assert await client.runs.list(threads[2]) == []
        assert (await client.threads.get(threads[2]))["status"] == "idle"
        # the tenant's override beats the default
        async with httpx.AsyncClient(base_url=server.url) as http:
            put = await http.put("/tenants/default/limits", json={"max_queued_runs": 3})
        assert put.json()["effective"]["max_queued_runs"] == 3
        assert put.json()["usage"] == {"running_runs": 0, "queued_runs": 2, "open_streams": 0}
        await client.runs.create(threads[2], "echo", input={"items": []})


async def test_streams_beyond_the_open_streams_limit_are_429_until_one_closes(
    database: str, tmp_path: Path
) -> None:
    env = {"LG_DEPLOY_TENANT_MAX_STREAMS": "1"}
    async with serving(database, tmp_path, env) as server, sdk(server) as client:
        busy, other = [(await client.threads.create())["thread_id"] for _ in range(2)]
        opened = asyncio.Event()
        run_ids = []

        async def first_stream() -> list[str]:
            seen = []
            async for part in client.runs.stream(
                busy, "slow", input={"items": []}, config={"configurable": {"sleep": 0.5}}
            ):
                if part.event == "metadata":
                    run_ids.append(part.data["run_id"])
                seen.append(part.event)
                opened.set()
            return seen

        streaming = asyncio.create_task(first_stream())
        async with asyncio.timeout(30):
            await opened.wait()
        with pytest.raises(RateLimitError) as refused:  # a run stream
            async for _ in client.runs.stream(other, "echo", input={"items": []}):
                pass
        assert "1 streams open" in refused.value.response.json()["detail"]
        assert await client.runs.list(other) == []  # the refused stream created no run
        with pytest.raises(RateLimitError):  # a thread stream
            async for _ in await client.threads.join_stream(other):
                pass
        with pytest.raises(RateLimitError):  # a join of the running run's stream
            async for _ in client.runs.join_stream(busy, run_ids[0]):
                pass
        assert "values" in await streaming
        parts = [p.event async for p in client.runs.stream(other, "echo", input={"items": []})]
        assert "values" in parts


async def test_the_executor_runs_no_more_of_a_tenants_runs_at_once_than_its_limit(
    database: str, tmp_path: Path
) -> None:
    env = {"LG_DEPLOY_TENANT_MAX_RUNNING_RUNS": "2", "LG_DEPLOY_N_JOBS": "8"}
    async with serving(database, tmp_path, env) as server, sdk(server) as client:
        runs = await _runs_on_new_threads(client, 6, "slow", sleep=0.15)  # three steps each
        for run in runs:
            await client.runs.join(run["thread_id"], run["run_id"])
    # when each run became running and ended: both written with its status, so exact
    spans = await _fetch(database, "SELECT started_at, ended_at FROM runs")
    # the most runs running at one moment (each start against every run's span)
    overlap = max(sum(s <= start < e for s, e in spans) for start, _ in spans)
    assert len(spans) == 6 and overlap == 2


async def test_a_tenants_single_run_is_claimed_before_another_tenants_backlog(
    database: str, tmp_path: Path
) -> None:
    # nothing runs until the limit is lifted; one executor slot: claims happen one at a time
    env = {"LG_DEPLOY_TENANT_MAX_RUNNING_RUNS": "0", "LG_DEPLOY_N_JOBS": "1"}
    async with serving(database, tmp_path, env) as server, sdk(server) as client:
        backlog = await _runs_on_new_threads(client, 20, "echo")
        conn = await asyncpg.connect(database)
        try:  # the backlog becomes tenant "noisy"'s, with no running-runs limit
            noisy_threads = [uuid.UUID(r["thread_id"]) for r in backlog]
            await conn.execute(
                "UPDATE threads SET tenant_id = 'noisy' WHERE thread_id = ANY($1)", noisy_threads
            )
            await conn.execute(
                "UPDATE runs SET tenant_id = 'noisy' WHERE thread_id = ANY($1)", noisy_threads
            )
            thread_id = (await client.threads.create())["thread_id"]
            single = await client.runs.create(thread_id, "echo", input={"items": []})
            # both tenants are let run only now, with the backlog queued first: no claim of
            # the backlog can slip in while the single run is being created
            await conn.execute(
                "INSERT INTO tenant_limits (tenant_id, max_running_runs) VALUES ('noisy', 100)"
            )
        finally:
            await conn.close()
        async with httpx.AsyncClient(base_url=server.url) as http:  # wakes the executor
            await http.put("/tenants/default/limits", json={"max_running_runs": 100})
        await client.runs.join(thread_id, single["run_id"])

        async def all_ended() -> bool:
            return not await _fetch(database, "SELECT 1 FROM runs WHERE ended_at IS NULL")

        await eventually(all_ended, within=30, what="the backlog to run")
    rows = await _fetch(database, "SELECT run_id::text, started_at FROM runs")
    starts = dict(rows)
    before = [r for r in backlog if starts[r["run_id"]] < starts[single["run_id"]]]
    assert len(before) <= 1, f"{len(before)} of the backlog's runs started first"


async def test_the_request_rate_limit_holds_across_two_intakes(
    database: str, tmp_path: Path
) -> None:
    env = {
        "LG_DEPLOY_TENANT_REQUESTS_PER_WINDOW": "12",
        "LG_DEPLOY_TENANT_RATE_WINDOW_SECONDS": HOUR,
    }
    async with (
        serving(database, tmp_path, env, "intake") as one,
        serving(database, tmp_path, env, "intake") as two,
        sdk(one) as client,
    ):
        thread_id = (await client.threads.create())["thread_id"]  # request 1
        statuses = []
        for i in range(13):  # requests 2…14, alternating between the intakes
            async with httpx.AsyncClient(base_url=(one, two)[i % 2].url) as http:
                statuses.append((await http.get(f"/threads/{thread_id}")).status_code)
    assert statuses == [200] * 11 + [429] * 2


async def test_a_limit_set_through_one_intake_applies_there_at_once_and_soon_on_the_other(
    database: str, tmp_path: Path
) -> None:
    env = {"LG_DEPLOY_LIMITS_CACHE_SECONDS": "1"}
    async with (
        serving(database, tmp_path, env, "intake") as one,
        serving(database, tmp_path, env, "intake") as two,
        httpx.AsyncClient(base_url=one.url) as first,
        httpx.AsyncClient(base_url=two.url) as second,
    ):
        for http in (first, second):  # both intakes know the tenant: no rate limit
            assert "RateLimit" not in (await http.post("/threads/search", json={})).headers
        limits = {"requests_per_window": 1000}
        assert (await second.put("/tenants/default/limits", json=limits)).status_code == 200
        answer = await second.post("/threads/search", json={})
        assert _field(answer.headers, "RateLimit-Policy")["q"] == "1000"

        async def limited_on_one() -> bool:
            return "RateLimit" in (await first.post("/threads/search", json={})).headers

        await eventually(limited_on_one, within=5, what="intake one to read the new limit")


async def test_the_stream_limit_holds_across_two_intakes_and_a_dead_ones_streams_expire(
    database: str, tmp_path: Path
) -> None:
    env = {"LG_DEPLOY_TENANT_MAX_STREAMS": "1", "LG_DEPLOY_STREAM_LEASE_SECONDS": "1.5"}
    async with (
        serving(database, tmp_path, env, "intake") as one,
        serving(database, tmp_path, env, "intake") as two,
        sdk(one) as first,
        sdk(two) as second,
    ):
        thread_id = (await first.threads.create())["thread_id"]

        async def hold_stream() -> None:  # a thread stream stays open until closed
            async for _ in await first.threads.join_stream(thread_id):
                pass

        holder = asyncio.create_task(hold_stream())
        async with httpx.AsyncClient(base_url=two.url) as http:

            async def leased() -> bool:
                usage = (await http.get("/tenants/default/limits")).json()["usage"]
                return bool(usage["open_streams"] == 1)

            await eventually(leased, within=15, what="the stream's lease")
            with pytest.raises(RateLimitError):  # intake two sees intake one's stream
                async for _ in await second.threads.join_stream(thread_id):
                    pass
            # intake one dies with its stream open: its lease expires, the slot frees itself
            one.stop(signal.SIGKILL)
            holder.cancel()
            await asyncio.gather(holder, return_exceptions=True)

            async def streams() -> bool:
                async with http.stream("GET", f"/threads/{thread_id}/stream") as response:
                    return response.status_code == 200

            await eventually(streams, within=15, what="the dead intake's lease to expire")


async def test_limits_api_answers_the_callers_tenant_only_and_refuses_bad_limits(
    database: str, tmp_path: Path
) -> None:
    async with serving(database, tmp_path, {}) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            got = (await http.get("/tenants/default/limits")).json()
            assert got["overrides"] == {
                "max_running_runs": None,
                "max_queued_runs": None,
                "requests_per_window": None,
                "max_streams": None,
            }
            assert got["effective"]["max_queued_runs"] == 10_000  # the default
            assert got["updated_at"] is None
            assert (await http.get("/tenants/someone-else/limits")).status_code == 404
            refused = await http.put("/tenants/someone-else/limits", json={"max_streams": 1})
            assert refused.status_code == 404
            for bad in ({"max_streams": -1}, {"max_streams": 2**31}, {"unknown": 1}):
                answer = await http.put("/tenants/default/limits", json=bad)
                assert answer.status_code == 422, bad
            assert (await http.get("/tenants/default/limits")).json()["updated_at"] is None
            put = await http.put("/tenants/default/limits", json={"max_queued_runs": None})
            assert put.json()["effective"]["max_queued_runs"] == 10_000
