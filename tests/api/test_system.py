"""System endpoints: health, info, the OpenAPI document and its HTML reference."""

from __future__ import annotations

import os

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.support import Server


def test_ok_and_info(server: Server) -> None:
    assert httpx.get(server.url + "/ok").json() == {"ok": True}
    assert httpx.get(server.url + "/ok", params={"check_db": 1}).json() == {"ok": True}
    info = httpx.get(server.url + "/info").json()
    assert info["version"] and info["flags"]["assistants"] is True
    assert "echo" in info["graphs"]


def test_openapi_is_generated_from_our_models(server: Server) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/assistants",
        "/threads",
        "/threads/{thread_id}/runs",
        "/threads/{thread_id}/runs/stream",
        "/threads/{thread_id}/runs/{run_id}/cancel",
        "/runs/wait",
    ):
        assert path in spec["paths"], path
    assert "RunCreateStateful" in spec["components"]["schemas"]


def test_docs_page_is_html(server: Server) -> None:
    response = httpx.get(server.url + "/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


def test_unknown_route_is_json_404(server: Server) -> None:
    response = httpx.get(server.url + "/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_metrics_count_runs_and_attempts(client: LangGraphClient, server: Server) -> None:
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "echo", input={})
    urls = [server.url]
    if os.environ.get("LG_DEPLOY_TEST_SERVER") == "up":  # executors count attempts: port+1, +2
        urls += [f"http://127.0.0.1:{server.port + n}" for n in (1, 2)]
    async with httpx.AsyncClient() as http:
        text = "".join([(await http.get(url + "/metrics")).text for url in urls])
    assert 'lgd_run_attempts_total{outcome="success"}' in text
    assert "lgd_runs_created_total" in text
    assert 'lgd_runs{status="success"}' in text
    assert "lgd_oldest_pending_run_age_seconds" in text
