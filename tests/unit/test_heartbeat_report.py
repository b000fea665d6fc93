"""The executor reads a heartbeat's report: a run it no longer holds is a lost lease, unless
its attempt is already stopping (its outcome or hand-back was written, so it is not held)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from types import SimpleNamespace

import pytest

from functions.executor.worker import Executor


def _executor_holding(attempt: SimpleNamespace) -> tuple[Executor, uuid.UUID]:
    executor = object.__new__(Executor)  # only what _on_heartbeat reads
    run_id = uuid.uuid4()
    task = asyncio.ensure_future(asyncio.sleep(60))  # the attempt's task
    executor._running = {run_id: (attempt, task, 0.0)}  # type: ignore[dict-item]
    return executor, run_id


@pytest.mark.parametrize(
    "stopping", [{"ending": True}, {"cancel_reason": "shutdown"}, {"cancel_reason": "interrupt"}]
)
async def test_a_stopping_attempt_missing_from_the_report_is_not_a_lost_lease(
    stopping: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    attempt = SimpleNamespace(**({"ending": False, "cancel_reason": None} | stopping))
    executor, _ = _executor_holding(attempt)
    with caplog.at_level(logging.WARNING):
        executor._on_heartbeat(1.0, [])
    assert "lease lost" not in caplog.text
    executor._running.popitem()[1][1].cancel()


async def test_a_running_attempt_missing_from_the_report_lost_its_lease(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempt = SimpleNamespace(ending=False, cancel_reason=None, cancel_taken=False)
    executor, run_id = _executor_holding(attempt)
    with caplog.at_level(logging.WARNING):
        executor._on_heartbeat(1.0, [])
    assert f"run {run_id}: lease lost" in caplog.text
    assert attempt.cancel_reason == "lost"
    task = executor._running.pop(run_id)[1]  # gone: the executor's re-send stops
    await asyncio.sleep(0)
    assert task.cancelled()
