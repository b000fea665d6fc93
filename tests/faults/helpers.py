"""Helpers of the fault tests: short leases, ledgers, polling, and log checks."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run

from tests.support import Server

LEASE_SECONDS = 2.0
SWEEP_SECONDS = 1.0
FAULT_ENV = {
    "LG_DEPLOY_LEASE_SECONDS": str(LEASE_SECONDS),
    "LG_DEPLOY_SWEEP_SECONDS": str(SWEEP_SECONDS),
}
"""Short leases and sweeps so that takeovers happen within seconds."""

STEP_NAMES = [f"step_{i}" for i in range(1, 21)]
"""The nodes of the ``steps`` test graph, in order."""

T = TypeVar("T")


def ledger_lines(path: Path) -> list[str]:
    """The node executions a test graph recorded in ``path`` (one name per line)."""
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line]


def ledger_counts(path: Path) -> Counter[str]:
    """How many times each node ran, from the ledger at ``path``."""
    return Counter(ledger_lines(path))


async def eventually(
    probe: Callable[[], Awaitable[T] | T], *, within: float, what: str, interval: float = 0.05
) -> T:
    """Call ``probe`` until it returns a truthy value; that value. Fails after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


_ALARMING = re.compile(r"Traceback|\b(ERROR|CRITICAL)\b|lease lost|crashed")


def alarming_lines(log: str) -> list[str]:
    """Lines of a server log a user would read as a crash or a failure."""
    return [line for line in log.splitlines() if _ALARMING.search(line)]


async def start_run(
    client: LangGraphClient, graph_id: str, configurable: dict[str, Any], **kwargs: Any
) -> Run:
    """A background run of a test graph on a new thread, from empty ``items``."""
    thread = await client.threads.create()
    return await client.runs.create(
        thread["thread_id"],
        graph_id,
        input={"items": []},
        config={"configurable": configurable},
        **kwargs,
    )


async def start_steps_run(
    client: LangGraphClient, ledger: Path, *, started: int, durability: str = "sync"
) -> Run:
    """A run of the 20-step graph (0.2 s a step), once ``started`` steps have begun."""
    run = await start_run(
        client, "steps", {"ledger": str(ledger), "sleep": 0.2}, durability=durability
    )
    await eventually(
        lambda: len(ledger_lines(ledger)) >= started, within=30, what=f"{started} steps to run"
    )
    return run


def assert_only_in_flight_reran(ledger: Path, in_flight: Collection[str]) -> None:
    """Every step of the ``steps`` graph ran; only steps in ``in_flight`` ran twice."""
    counts = ledger_counts(ledger)
    assert set(counts) == set(STEP_NAMES)
    assert max(counts.values()) <= 2
    assert {step for step, n in counts.items() if n > 1} <= set(in_flight)


async def run_attempts(intake: Server, run: Run | dict[str, Any]) -> list[dict[str, Any]]:
    """``GET /threads/{t}/runs/{r}/attempts`` of ``intake``: ``run``'s executor attempts,
    oldest first."""
    path = f"/threads/{run['thread_id']}/runs/{run['run_id']}/attempts"
    async with httpx.AsyncClient(base_url=intake.url, timeout=30) as http:
        response = await http.get(path)
    response.raise_for_status()
    attempts: list[dict[str, Any]] = response.json()
    return attempts
