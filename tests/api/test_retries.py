"""Run retries (lg-deploy extension ``retry_policy``): a run whose graph raises is tried again
from its last checkpoint with exponential backoff, a bounded number of times, and every
attempt is recorded. Source: issue 3, "Run retries and idempotency"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.version import __version__ as LANGGRAPH_VERSION
from langgraph_sdk.client import LangGraphClient

from tests.support import Server

FAST = {"max_attempts": 3, "initial_delay_seconds": 0.2, "backoff_factor": 2, "jitter": False}


async def _attempts(server: Server, tid: str, rid: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(f"/threads/{tid}/runs/{rid}/attempts")
        response.raise_for_status()
        return list(response.json())


async def _create(server: Server, tid: str, **body: Any) -> dict[str, Any]:
    """Create a run over plain HTTP: the SDK does not send extension fields."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post(f"/threads/{tid}/runs", json=body)
        response.raise_for_status()
        return dict(response.json())


def _ledger_lines(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines()


def _config(ledger: Path, fail_times: int) -> dict[str, Any]:
    return {"configurable": {"ledger": str(ledger), "fail_times": fail_times}}


async def test_transient_failures_are_retried_from_the_checkpoint(
    client: LangGraphClient, server: Server, ledger: Path
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await _create(
        server,
        tid,
        assistant_id="flaky",
        input={"items": []},
        config=_config(ledger, 2),
        retry_policy=FAST,
    )
    assert await client.runs.join(tid, run["run_id"]) == {"items": ["prepared", "recovered"]}
    done = await client.runs.get(tid, run["run_id"])
    assert done["status"] == "success" and done["attempt"] == 3
    attempts = await _attempts(server, tid, run["run_id"])
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "success"]
    assert attempts[0]["error"]["error"] == "ConnectionError"
    gap_1 = (attempts[1]["started_at"], attempts[0]["ended_at"])
    assert gap_1[0] > gap_1[1]  # the second attempt started after the first ended
    assert _ledger_lines(ledger) == ["flaky"] * 3  # "prepare" ran once


async def test_checkpoints_name_the_attempt_that_wrote_them(
    client: LangGraphClient, server: Server, ledger: Path
) -> None:
    """Checkpoint metadata carries the run's ``run_attempt`` and ``langgraph_version``, as the
    official server's do; a retried run's later checkpoints name the later attempt."""
    tid = (await client.threads.create())["thread_id"]
    run = await _create(
        server, tid, assistant_id="flaky", input={}, config=_config(ledger, 1), retry_policy=FAST
    )
    await client.runs.join(tid, run["run_id"])
    history = await client.threads.get_history(tid)
    by_step = {h["metadata"]["step"]: h["metadata"] for h in history}
    assert [by_step[step]["run_attempt"] for step in sorted(by_step)] == [1, 1, 1, 2]
    assert {m["langgraph_version"] for m in by_step.values()} == {LANGGRAPH_VERSION}
    assert {m["run_id"] for m in by_step.values()} == {run["run_id"]}


async def test_attempts_are_bounded_then_the_run_errors(
    client: LangGraphClient, server: Server, ledger: Path
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await _create(
        server, tid, assistant_id="flaky", input={}, config=_config(ledger, 10), retry_policy=FAST
    )
    result = await client.runs.join(tid, run["run_id"])
    assert result["__error__"]["error"] == "ConnectionError"
    done = await client.runs.get(tid, run["run_id"])
    assert done["status"] == "error" and done["attempt"] == 3
    outcomes = [a["outcome"] for a in await _attempts(server, tid, run["run_id"])]
    assert outcomes == ["retry", "retry", "error"]
    assert (await client.threads.get(tid))["status"] == "error"


async def test_retry_on_limits_which_errors_are_retried(
    client: LangGraphClient, server: Server, ledger: Path
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    policy = {**FAST, "retry_on": ["TimeoutError"]}
    run = await _create(
        server, tid, assistant_id="flaky", input={}, config=_config(ledger, 1), retry_policy=policy
    )
    await client.runs.join(tid, run["run_id"])
    done = await client.runs.get(tid, run["run_id"])
    assert done["status"] == "error" and done["attempt"] == 1


async def test_assistant_level_retry_policy(client: LangGraphClient, ledger: Path) -> None:
    assistant = await client.assistants.create("flaky", config={"retry_policy": FAST})
    thread = await client.threads.create()
    result = await client.runs.wait(
        thread["thread_id"], assistant["assistant_id"], input={}, config=_config(ledger, 1)
    )
    assert result["items"] == ["prepared", "recovered"]


async def test_without_a_policy_a_failure_is_final(client: LangGraphClient, ledger: Path) -> None:
    thread = await client.threads.create()
    result = await client.runs.wait(
        thread["thread_id"], "flaky", input={}, config=_config(ledger, 1), raise_error=False
    )
    assert result["__error__"]["error"] == "ConnectionError"


@pytest.mark.parametrize(
    "policy",
    [{"max_attempts": 0}, {"backoff_factor": 0.5}, {"initial_delay_seconds": -1}],
)
async def test_invalid_retry_policy_is_422(server: Server, policy: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/runs", json={"assistant_id": "echo", "retry_policy": policy})
    assert response.status_code == 422
