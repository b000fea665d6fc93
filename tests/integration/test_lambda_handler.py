"""Intake's AWS Lambda handler (``functions/intake/lambda_handler.py``, mangum) on a real
PostgreSQL, fed API Gateway HTTP API (payload 2.0) events.

A child Python process stands for one Lambda container: it imports the module once (the cold
start) and calls ``handler(event, context)`` for each event the test writes to it, one JSON per
line; an ``lg-deploy executor`` process runs the runs it creates.

Guarantees: the non-streaming endpoints answer as over HTTP (health, assistants, threads, runs,
join); a bad body is a JSON 4xx; the SSE endpoints answer 501 JSON at once and create nothing
(the run streams and A2A ``message/stream``).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT, TEST_GRAPHS, executor_id, start

CONTAINER = """
import asyncio, json, sys
from functions.intake.lambda_handler import app, handler
for line in sys.stdin:
    print("RESPONSE " + json.dumps(handler(json.loads(line), None)), flush=True)
loop = asyncio.get_event_loop()
loop.run_until_complete(app.close())
left = asyncio.all_tasks(loop)
for task in left:
    task.cancel()
loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
"""
"""The container: invoke the handler per line of stdin; at end of input close the runtime and
end the tasks left behind (as ``asyncio.run`` would)."""


def http_api_event(
    method: str, path: str, body: Any = None, query: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload format 2.0) for ``method path?query``."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "abc123.execute-api.eu-west-1.amazonaws.com",
            "x-forwarded-proto": "https",
            "content-type": "application/json",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "tests",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


class Container:
    """The child process that imports the handler; :meth:`invoke` sends it one event."""

    def __init__(self, proc: subprocess.Popen[str], log: Path) -> None:
        self.proc, self.log = proc, log

    def invoke(self, method: str, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        """``handler(event, None)``'s answer, with ``json`` holding the decoded body."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(http_api_event(method, path, body, **kw)) + "\n")
        self.proc.stdin.flush()
        while True:
            ready, _, _ = select.select([self.proc.stdout], [], [], 120)
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                raise AssertionError(f"no answer to {method} {path}:\n{self.log.read_text()}")
            if line.startswith("RESPONSE "):
                response: dict[str, Any] = json.loads(line.removeprefix("RESPONSE "))
                if response.get("body"):
                    response["json"] = json.loads(response["body"])
                return response


@pytest.fixture(scope="module")
def container(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The Lambda container and an executor, on the test database."""
    tmp = tmp_path_factory.mktemp("lambda")
    executor = start("executor", database_url=database_url, log=tmp / "executor.log")
    log = tmp / "container.log"
    env = {
        **os.environ,
        "LG_DEPLOY_DATABASE_URL": database_url,
        "LG_DEPLOY_CONFIG": str(TEST_GRAPHS),
    }
    try:
        executor_id(executor)
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-c", CONTAINER],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        try:
            yield Container(proc, log)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()  # the container closes its runtime and exits
            assert proc.wait(60) == 0, log.read_text()
    finally:
        executor.stop()


def test_health_answers_through_the_handler(container: Container) -> None:
    ok = container.invoke("GET", "/ok")
    assert ok["statusCode"] == 200 and ok["json"] == {"ok": True}
    checked = container.invoke("GET", "/ok", query="check_db=1")
    assert checked["statusCode"] == 200 and checked["json"] == {"ok": True}


def test_threads_and_runs_work_through_the_handler(container: Container) -> None:
    found = container.invoke("POST", "/assistants/search", {"graph_id": "echo"})
    assert found["statusCode"] == 200
    assert [a["graph_id"] for a in found["json"]] == ["echo"]
    created = container.invoke("POST", "/threads", {"metadata": {"via": "lambda"}})
    assert created["statusCode"] == 200
    thread_id = created["json"]["thread_id"]
    fetched = container.invoke("GET", f"/threads/{thread_id}")
    assert fetched["statusCode"] == 200 and fetched["json"]["metadata"]["via"] == "lambda"
    run = container.invoke(
        "POST", f"/threads/{thread_id}/runs", {"assistant_id": "echo", "input": {}}
    )
    assert run["statusCode"] == 200, run
    run_id = run["json"]["run_id"]
    assert run["headers"]["content-location"] == f"/threads/{thread_id}/runs/{run_id}"
    joined = container.invoke("GET", f"/threads/{thread_id}/runs/{run_id}/join")
    assert joined["statusCode"] == 200 and isinstance(joined["json"], dict)
    ended = container.invoke("GET", f"/threads/{thread_id}/runs/{run_id}")
    assert ended["json"]["status"] == "success"


def test_bad_input_is_a_json_4xx_through_the_handler(container: Container) -> None:
    unknown = container.invoke("GET", f"/threads/{uuid.uuid4()}")
    assert unknown["statusCode"] == 404 and "detail" in unknown["json"]
    invalid = container.invoke("POST", "/threads", "{not json")
    assert invalid["statusCode"] == 422 and "detail" in invalid["json"]


def _thread_count(container: Container) -> int:
    counted = container.invoke("POST", "/threads/count", {})
    assert counted["statusCode"] == 200
    return int(counted["json"])


def test_streams_answer_501_and_create_nothing(container: Container) -> None:
    thread_id = container.invoke("POST", "/threads", {})["json"]["thread_id"]
    threads = _thread_count(container)
    body = {"assistant_id": "echo", "input": {}}
    refused = [
        container.invoke("POST", f"/threads/{thread_id}/runs/stream", body),
        container.invoke("POST", "/runs/stream", body),
        container.invoke("GET", f"/threads/{thread_id}/stream"),
        container.invoke("GET", f"/threads/{thread_id}/runs/{uuid.uuid4()}/stream"),
        container.invoke(
            "POST",
            "/a2a/chat",
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "message/stream",
                "params": {
                    "message": {
                        "messageId": str(uuid.uuid4()),
                        "role": "user",
                        "parts": [{"kind": "text", "text": "hi"}],
                    }
                },
            },
            headers={"accept": "text/event-stream"},
        ),
    ]
    for response in refused:
        assert response["statusCode"] == 501, response
        assert response["headers"]["content-type"] == "application/json"
        assert "not served on AWS Lambda" in response["json"]["detail"]
    runs = container.invoke("GET", f"/threads/{thread_id}/runs")
    assert runs["statusCode"] == 200 and runs["json"] == []
    assert _thread_count(container) == threads
