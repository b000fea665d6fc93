"""Run-end webhooks through the official SDK: the body the official server sends, a verifiable
signature, retries with backoff, bounded attempts, no redirects, and the default URL policy
refusing private, loopback and metadata addresses with 422 and nothing written.

Delivery tests run their own ``lg-deploy dev`` whose ``langgraph.json`` allows loopback
receivers; the refusal tests use the shared server, which has no ``webhooks`` section.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from langgraph.version import __version__ as LANGGRAPH_VERSION
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import UnprocessableEntityError

from tests.faults.helpers import eventually
from tests.support import Server, postgres_dir, sdk, start
from tests.webhook_receiver import SECRET_ENV, Receiver, Redirect, receiver, write_project

SETTLE_SECONDS = 60.0
INITIAL_DELAY_SECONDS = 0.2
"""``retry.initial_delay_seconds`` of :func:`write_project`; jitter keeps at least half."""


@pytest.fixture(scope="module")
def hook_server() -> Iterator[Server]:
    """``lg-deploy dev`` whose ``webhooks`` config allows http://127.0.0.1 receivers."""
    with postgres_dir("webhooks") as base:
        config = write_project(base)
        srv = start(
            "dev", config=config, data_dir=base / "data", log=base / "server.log", env=SECRET_ENV
        )
        yield srv
        srv.stop()


@pytest.fixture(scope="module")
async def hooks(hook_server: Server) -> AsyncIterator[LangGraphClient]:
    """The official client on :func:`hook_server`."""
    async with sdk(hook_server) as c:
        yield c


@pytest.fixture
async def http(hook_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hook_server.url, timeout=30) as c:
        yield c


@pytest.fixture
def recv() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


async def _run_with_webhook(
    hooks: LangGraphClient, url: str, graph: str = "echo"
) -> tuple[str, str]:
    """Run ``graph`` to its end with ``webhook=url``; ``(thread_id, run_id)``."""
    thread = await hooks.threads.create()
    tid = thread["thread_id"]
    run = await hooks.runs.create(tid, graph, input={"items": ["x"]}, webhook=url)
    await hooks.runs.join(tid, run["run_id"])
    return tid, run["run_id"]


async def _deliveries(http: httpx.AsyncClient, tid: str, rid: str) -> list[dict[str, Any]]:
    response = await http.get(f"/threads/{tid}/runs/{rid}/webhooks")
    assert response.status_code == 200, response.text
    deliveries: list[dict[str, Any]] = response.json()
    return deliveries


async def _settled(http: httpx.AsyncClient, tid: str, rid: str) -> dict[str, Any]:
    """The run's one delivery once it is delivered or failed."""

    async def probe() -> dict[str, Any] | None:
        deliveries = await _deliveries(http, tid, rid)
        assert len(deliveries) <= 1
        if deliveries and deliveries[0]["status"] in ("delivered", "failed"):
            return deliveries[0]
        return None

    return await eventually(probe, within=SETTLE_SECONDS, what="the webhook delivery to settle")


async def test_webhook_delivers_the_run_body_with_a_valid_signature(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    url = recv.url("/hook")
    tid, rid = await _run_with_webhook(hooks, url)
    delivery = await _settled(http, tid, rid)
    assert delivery["status"] == "delivered" and delivery["url"] == url
    [attempt] = delivery["attempts"]
    assert attempt["outcome"] == "delivered" and attempt["status_code"] == 200
    assert attempt["latency_ms"] >= 0 and attempt["error"] is None

    [request] = recv.at("/hook")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    # as the official server writes it, once (some receivers match the name case-sensitively)
    assert [h for h in request.raw_headers if h[0].lower() == "content-type"] == [
        ("Content-Type", "application/json")
    ]
    assert request.headers["webhook-id"] == delivery["delivery_id"]
    assert request.signature_ok()
    assert not request.signature_ok("some-other-secret-of-enough-length")
    body = request.json()
    run = await hooks.runs.get(tid, rid)
    for key, value in run.items():
        if key != "kwargs":
            assert body[key] == value, key
    assert body["kwargs"] == {**run["kwargs"], "config": body["kwargs"]["config"]}
    assert body["status"] == "success" and body["kwargs"]["webhook"] == url
    assert body["values"] == (await hooks.threads.get_state(tid))["values"]
    assert body["values"] == {"items": ["x", "one"]}
    assert "error" not in body  # as officially: only a failed run's body has one
    assert body["run_started_at"] <= body["run_ended_at"] <= body["webhook_sent_at"]


async def test_webhook_body_carries_the_config_the_run_ran_with(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    """As the official server's: ``kwargs.config`` is the config the run executed with, its
    ids and its user (anonymous here: no auth) in ``configurable`` and the attempt and
    LangGraph version in ``metadata``; no bookkeeping of lg-deploy's in ``kwargs``."""
    thread = await hooks.threads.create()
    tid = thread["thread_id"]
    run = await hooks.runs.create(
        tid,
        "echo",
        input={"items": []},
        config={"configurable": {"mine": 1}},
        metadata={"source": "test"},
        webhook=recv.url("/config"),
    )
    await hooks.runs.join(tid, run["run_id"])
    await _settled(http, tid, run["run_id"])
    config = recv.at("/config")[0].json()["kwargs"]["config"]
    assert config["configurable"] == {
        "mine": 1,
        "langgraph_auth_user": None,
        "langgraph_auth_user_id": "",
        "langgraph_auth_permissions": [],
        "user_id": "",
        "run_id": run["run_id"],
        "thread_id": tid,
        "graph_id": "echo",
        "assistant_id": run["assistant_id"],
    }
    assert config["metadata"] == {
        **run["metadata"],
        "run_attempt": 1,
        "langgraph_version": LANGGRAPH_VERSION,
    }
    assert "context_given" not in recv.at("/config")[0].json()["kwargs"]


async def test_failed_run_webhook_carries_the_error(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    tid, rid = await _run_with_webhook(hooks, recv.url("/failed"), graph="fail")
    assert (await _settled(http, tid, rid))["status"] == "delivered"
    body = recv.at("/failed")[0].json()
    assert body["status"] == "error"
    assert body["error"]["error"] == "ValueError"


async def test_webhook_retried_after_the_receiver_fails_twice(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    recv.reply("/flaky", 500, 500, 200)
    tid, rid = await _run_with_webhook(hooks, recv.url("/flaky"))
    delivery = await _settled(http, tid, rid)
    assert delivery["status"] == "delivered"
    attempts = delivery["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
    requests = recv.at("/flaky")
    assert len(requests) == 3
    assert {r.headers["webhook-id"] for r in requests} == {delivery["delivery_id"]}
    assert all(r.signature_ok() for r in requests)
    # exponential backoff (delays 0.2 s then 0.4 s; jitter keeps at least half of each)
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    assert gaps[0] >= INITIAL_DELAY_SECONDS / 2
    assert gaps[1] >= INITIAL_DELAY_SECONDS


async def test_permanently_failing_receiver_gets_bounded_attempts_then_failed(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    recv.reply("/down", 503)
    tid, rid = await _run_with_webhook(hooks, recv.url("/down"))
    delivery = await _settled(http, tid, rid)
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert [a["outcome"] for a in delivery["attempts"]] == ["retry", "retry", "failed"]
    assert all(a["error"] == "HTTP 503" for a in delivery["attempts"])
    assert len(recv.at("/down")) == 3


async def test_redirects_are_not_followed(
    hooks: LangGraphClient, http: httpx.AsyncClient, recv: Receiver
) -> None:
    recv.reply("/moved", Redirect(recv.url("/elsewhere")))
    tid, rid = await _run_with_webhook(hooks, recv.url("/moved"))
    delivery = await _settled(http, tid, rid)
    assert delivery["status"] == "failed"
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 302 and attempt["outcome"] == "failed"
    assert "redirect" in attempt["error"]
    assert recv.at("/elsewhere") == []


async def test_run_without_webhook_lists_no_deliveries_and_unknown_run_is_404(
    hooks: LangGraphClient, http: httpx.AsyncClient
) -> None:
    thread = await hooks.threads.create()
    tid = thread["thread_id"]
    run = await hooks.runs.create(tid, "echo", input={})
    await hooks.runs.join(tid, run["run_id"])
    assert await _deliveries(http, tid, run["run_id"]) == []
    missing = await http.get(f"/threads/{tid}/runs/00000000-0000-0000-0000-000000000000/webhooks")
    assert missing.status_code == 404 and "detail" in missing.json()


@pytest.mark.parametrize(
    "url",
    [
        "/relative/path",
        "ftp://example.com/hook",
        "http://",
        "http://[::1/",
        "http://example.com:70000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
    ],
)
async def test_malformed_relative_and_private_urls_are_refused_even_with_loopback_allowed(
    hooks: LangGraphClient, url: str
) -> None:
    thread = await hooks.threads.create()
    with pytest.raises(UnprocessableEntityError):
        await hooks.runs.create(thread["thread_id"], "echo", input={}, webhook=url)
    assert await hooks.runs.list(thread["thread_id"]) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.10/hook",
        "http://[fd00::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_default_policy_refuses_private_loopback_and_metadata_urls_with_nothing_written(
    server: Server, client: LangGraphClient, url: str
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as raw:
        for path in (f"/threads/{tid}/runs", f"/threads/{tid}/runs/wait", "/runs", "/runs/wait"):
            response = await raw.post(path, json={"assistant_id": "echo", "webhook": url})
            assert response.status_code == 422, (path, response.text)
            assert response.json()["detail"].startswith("Webhook"), response.text
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(tid, "echo", input={}, webhook=url)
    assert await client.runs.list(tid) == []
    assert (await client.threads.get(tid))["status"] == "idle"
