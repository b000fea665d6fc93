"""JSON logs (``LG_DEPLOY_LOG_JSON=true``): one line per run state change, each carrying the
correlation ids of PRD §9.3 that exist and the trace id of the request that created the run,
read from a real ``lg-deploy dev``'s output through the official SDK."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import Server, dev_server, sdk

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with dev_server("logs", env={"LG_DEPLOY_LOG_JSON": "true"}) as running:
        yield running


def json_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for text in server.log_text().splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def status_lines(server: Server, run_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in json_lines(server)
        if line.get("event") == "run.status" and line.get("run_id") == run_id
    ]


async def wait_for_status(server: Server, run_id: str, status: str) -> list[dict[str, Any]]:
    for _ in range(100):
        lines = status_lines(server, run_id)
        if any(line["status"] == status for line in lines):
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status} line for run {run_id}: {status_lines(server, run_id)}")


async def test_a_run_logs_each_state_change_with_its_correlation_ids(server: Server) -> None:
    async with sdk(server) as client:
        thread = await client.threads.create()
        run = await client.runs.create(
            thread["thread_id"],
            "echo",
            input={"messages": [{"role": "user", "content": "hi"}]},
            headers={"traceparent": TRACEPARENT},
        )
        await client.runs.join(thread["thread_id"], run["run_id"])
    lines = await wait_for_status(server, run["run_id"], "success")
    assert [(line["status"], line["reason"]) for line in lines] == [
        ("pending", "created"),
        ("running", "claimed"),
        ("success", "ended"),
    ]
    for line in lines:
        assert line["thread_id"] == thread["thread_id"]
        assert line["tenant_id"] == "default"
        assert line["trace_id"] == TRACE_ID
        assert line["function"] == "dev"
        assert line["logger"] == "lg_deploy.runs"
        assert line["level"] == "INFO"
    executor_side = lines[1:]
    for line in executor_side:
        assert line["assistant_id"] == run["assistant_id"]
        assert line["graph_id"] == "echo"
        assert line["attempt"] == "1"
    assert lines[0]["request_id"] == lines[1]["request_id"]


async def test_a_cancelled_pending_run_logs_its_end(server: Server) -> None:
    async with sdk(server) as client:
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "echo", input={}, after_seconds=600)
        await client.runs.cancel(thread["thread_id"], run["run_id"])
    lines = await wait_for_status(server, run["run_id"], "interrupted")
    assert [(line["status"], line["reason"]) for line in lines] == [
        ("pending", "created"),
        ("interrupted", "cancelled: interrupt"),
    ]
    assert lines[1]["thread_id"] == thread["thread_id"]
