"""Tenant isolation, generated from intake's route table: tenant B calls every operation of the
API on tenant A's resources and must neither see, change nor count them.

Tenant A owns an assistant, a thread with a finished run (checkpoints, events), a cron and
metadata carrying a marker. For every route of :data:`functions.intake.app.ROUTERS` B sends a
request naming A's ids in the path (and in the body where the operation takes ids). No answer
to B may carry A's marker; a successful answer may not carry A's ids either; counts are B's
own. Afterwards A finds everything as it was. The tenants are two non-default ones (an admin
of the default tenant administers the whole deployment, by design). A route with a path
parameter this test does not know fails it: an endpoint added later is covered, or the test
says what to add.

Runs on ``lg-deploy dev`` and, with ``LG_DEPLOY_TEST_SERVER=up``, on ``lg-deploy up``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from functions.intake.app import ROUTERS
from tests.support import Server, create_api_key, dev_server, lg_deploy, topology_server

MARKER = f"tenant-a-secret-{uuid.uuid4().hex}"
GRAPH = "chat"
OPEN = {"/ok", "/metrics", "/info", "/docs", "/openapi.json", "/"}


@dataclass
class TenantA:
    """What tenant A owns, by id."""

    assistant_id: str
    thread_id: str
    run_id: str
    cron_id: str
    checkpoint_id: str
    key_id: str

    def ids(self) -> list[str]:
        return [self.assistant_id, self.thread_id, self.run_id, self.cron_id, self.key_id]


@pytest.fixture(scope="module")
def isolated() -> Iterator[tuple[Server, dict[str, str], dict[str, str]]]:
    """A server of its own (keys turn auth on for every request) with tenants ``a`` and ``b``
    and an admin key each: ``(server, a_headers, b_headers)``."""
    up = os.environ.get("LG_DEPLOY_TEST_SERVER") == "up"
    with topology_server("isolation") if up else dev_server("isolation") as server:
        keys = {}
        for tenant in ("tenant-a", "tenant-b"):
            assert lg_deploy(server.data_dir, "tenants", "create", tenant).returncode == 0
            keys[tenant] = create_api_key(server.data_dir, tenant, "admin")
        yield server, {"X-Api-Key": keys["tenant-a"]}, {"X-Api-Key": keys["tenant-b"]}


def _seed(url: str, headers: dict[str, str]) -> TenantA:
    with httpx.Client(base_url=url, headers=headers, timeout=60) as a:
        meta = {"marker": MARKER}
        assistant = a.post("/assistants", json={"graph_id": GRAPH, "metadata": meta}).json()
        thread = a.post("/threads", json={"metadata": meta}).json()
        run_body = {
            "assistant_id": assistant["assistant_id"],
            "input": {"messages": [{"role": "user", "content": MARKER}]},
        }
        a.post(f"/threads/{thread['thread_id']}/runs/wait", json=run_body).raise_for_status()
        run = a.get(f"/threads/{thread['thread_id']}/runs").json()[0]
        cron = a.post(
            f"/threads/{thread['thread_id']}/runs/crons",
            json={**run_body, "schedule": "0 0 1 1 *", "metadata": meta},
        ).json()
        state = a.get(f"/threads/{thread['thread_id']}/state").json()
        item = {"namespace": [MARKER], "key": "k", "value": {"marker": MARKER}}
        a.put("/store/items", json=item).raise_for_status()
        key = a.get("/admin/keys").json()[0]
        return TenantA(
            assistant["assistant_id"],
            thread["thread_id"],
            run["run_id"],
            cron["cron_id"],
            state["checkpoint"]["checkpoint_id"],
            key["key_id"],
        )


def _body(method: str, path: str, a: TenantA) -> Any:
    """What B sends: a body naming A's resources where the operation takes ids."""
    if method in ("GET", "DELETE") and not path.startswith("/store"):
        return None
    run = {"assistant_id": GRAPH, "input": {"messages": [{"role": "user", "content": "hi"}]}}
    bodies: dict[str, Any] = {
        "/threads/{thread_id}/runs": run,
        "/threads/{thread_id}/runs/stream": run,
        "/threads/{thread_id}/runs/wait": run,
        "/threads/{thread_id}/runs/crons": {**run, "schedule": "0 0 1 1 *"},
        "/threads/{thread_id}/state": {"values": {"messages": [{"role": "user", "content": "b"}]}},
        "/threads/{thread_id}/state/checkpoint": {"checkpoint": {"checkpoint_id": a.checkpoint_id}},
        "/threads/{thread_id}": {"metadata": {"b": 1}},
        "/threads/prune": {"thread_ids": [a.thread_id], "strategy": "delete"},
        "/threads/search": {"ids": [a.thread_id], "metadata": {"marker": MARKER}},
        "/threads/count": {"metadata": {"marker": MARKER}},
        "/assistants/{assistant_id}": {"metadata": {"b": 1}},
        "/assistants/{assistant_id}/latest": {"version": 1},
        "/assistants/search": {"metadata": {"marker": MARKER}},
        "/assistants/count": {"metadata": {"marker": MARKER}},
        "/runs/crons/{cron_id}": {"schedule": "0 0 2 1 *"},
        "/runs/crons/search": {"thread_id": a.thread_id},
        "/runs/crons/count": {"thread_id": a.thread_id},
        "/runs/cancel": {"thread_id": a.thread_id, "run_ids": [a.run_id]},
        "/runs": {**run, "assistant_id": a.assistant_id},
        "/runs/wait": {**run, "assistant_id": a.assistant_id},
        "/runs/stream": {**run, "assistant_id": a.assistant_id},
        "/runs/batch": [{**run, "assistant_id": a.assistant_id}],
        "/a2a/{assistant_id}": {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tasks/get",
            "params": {"id": f"{a.thread_id}:{a.run_id}"},
        },
        "/mcp": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        "/store/items": {"namespace": [MARKER], "key": "k", "value": {"b": 1}},
        "/store/items/search": {"namespace_prefix": [MARKER]},
        "/store/namespaces": {},
    }
    return bodies.get(path.rstrip("/"), {})


def _fill(path: str, a: TenantA) -> str:
    values = {
        "thread_id": a.thread_id,
        "run_id": a.run_id,
        "assistant_id": a.assistant_id,
        "cron_id": a.cron_id,
        "checkpoint_id": a.checkpoint_id,
        "namespace": "agent",
        "key_id": a.key_id,
        "tenant_id": "tenant-a",
    }
    names = re.findall(r"{(\w+)}", path)
    unknown = set(names) - set(values)
    assert not unknown, f"{path}: add {unknown} to this test's table of A's resources"
    return path.format(**{n: values[n] for n in names})


def _answered(answer: httpx.Response) -> bool:
    """A success: 2xx, and not a JSON-RPC error (A2A and MCP answer errors with 200)."""
    if not answer.is_success:
        return False
    if answer.headers.get("content-type", "").startswith("application/json") and answer.content:
        body = answer.json()
        return not (isinstance(body, dict) and "error" in body and "jsonrpc" in body)
    return True


def _routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        for method in route.methods  # type: ignore[attr-defined]
        if route.path not in OPEN  # type: ignore[attr-defined]
    )


def test_tenant_b_reaches_nothing_of_tenant_a(
    isolated: tuple[Server, dict[str, str], dict[str, str]],
) -> None:
    server, a_headers, b_headers = isolated
    a = _seed(server.url, a_headers)
    headers = {**b_headers, "Accept": "application/json, text/event-stream"}
    leaks: list[str] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as b:
        for method, path in _routes():
            url = _fill(path, a)
            body = _body(method, path, a)
            if path.startswith("/store") and method in ("GET", "DELETE"):
                answer = b.request(method, url, params={"namespace": MARKER, "key": "k"})
            else:
                answer = b.request(method, url, json=body)
            text = answer.text
            if MARKER in text or (_answered(answer) and any(i in text for i in a.ids())):
                leaks.append(f"{method} {path} → {answer.status_code}: {text[:200]}")
            if path.endswith("/count") and answer.is_success:
                if answer.json() != 0:
                    leaks.append(f"{method} {path} counts {answer.json()} of A's")
    assert not leaks, "\n".join(leaks)
    _assert_intact(server.url, a_headers, a)


def _assert_intact(url: str, headers: dict[str, str], a: TenantA) -> None:
    """A still finds everything of its own as it made it."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        thread = client.get(f"/threads/{a.thread_id}").json()
        assert thread["metadata"]["marker"] == MARKER and "b" not in thread["metadata"]
        assistant = client.get(f"/assistants/{a.assistant_id}").json()
        assert assistant["version"] == 1 and "b" not in assistant["metadata"]
        cron = client.get(f"/runs/crons/{a.cron_id}").json()
        assert cron["schedule"] == "0 0 1 1 *"
        run = client.get(f"/threads/{a.thread_id}/runs/{a.run_id}").json()
        assert run["status"] == "success"
        state = client.get(f"/threads/{a.thread_id}/state").json()
        assert state["checkpoint"]["checkpoint_id"] == a.checkpoint_id
        assert [r["run_id"] for r in client.get(f"/threads/{a.thread_id}/runs").json()] == [
            a.run_id
        ]
        assert client.get("/admin/keys").json()[0]["revoked_at"] is None
        item = client.get("/store/items", params={"namespace": MARKER, "key": "k"}).json()
        assert item["value"] == {"marker": MARKER}
