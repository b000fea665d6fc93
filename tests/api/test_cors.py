"""CORS as the official server configures it: ``langgraph.json`` ``http.cors`` (origins,
methods, headers, credentials, expose headers, max_age) or, without it, any origin without
credentials; never ``*`` together with credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import TEST_GRAPHS, Server, dev_server

APP = "https://app.example"


def _project(folder: Path, cors: dict[str, Any]) -> Path:
    graphs = TEST_GRAPHS.parent / "graphs.py"
    path = folder / "langgraph.json"
    config = {
        "dependencies": [str(TEST_GRAPHS.parent)],
        "graphs": {"echo": f"{graphs}:echo"},
        "http": {"cors": cors},
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cors = {
        "allow_origins": [APP],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["authorization", "content-type"],
        "allow_credentials": True,
        "expose_headers": ["content-location"],
        "max_age": 120,
    }
    with dev_server("cors", config=_project(tmp_path_factory.mktemp("cors"), cors)) as srv:
        yield srv


@pytest.fixture(scope="module")
def any_origin_with_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cors = {"allow_origins": ["*"], "allow_credentials": True, "allow_methods": ["*"]}
    folder = tmp_path_factory.mktemp("cors-any")
    with dev_server("cors-any", config=_project(folder, cors)) as srv:
        yield srv


def _preflight(url: str, origin: str, method: str = "POST") -> httpx.Response:
    return httpx.options(
        url + "/threads",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_without_http_cors_any_origin_may_call_without_credentials(server: Server) -> None:
    answer = httpx.post(server.url + "/threads", json={}, headers={"Origin": APP})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "content-location" in exposed and "x-pagination-total" in exposed
    preflight = _preflight(server.url, APP, "DELETE")
    assert preflight.status_code == 200
    assert "DELETE" in preflight.headers["access-control-allow-methods"]


def test_http_cors_is_applied(configured: Server) -> None:
    preflight = _preflight(configured.url, APP)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == APP
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "120"
    assert set(preflight.headers["access-control-allow-methods"].split(", ")) >= {"GET", "POST"}
    assert "DELETE" not in preflight.headers["access-control-allow-methods"]
    assert _preflight(configured.url, APP, "DELETE").status_code == 400
    assert _preflight(configured.url, "https://evil.example").status_code == 400

    answer = httpx.post(configured.url + "/threads", json={}, headers={"Origin": APP})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["access-control-expose-headers"] == "content-location"
    other = httpx.post(
        configured.url + "/threads", json={}, headers={"Origin": "https://x.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_any_origin_with_credentials_reflects_the_origin_never_a_star(
    any_origin_with_credentials: Server,
) -> None:
    url = any_origin_with_credentials.url
    for origin in (APP, "https://other.example"):
        preflight = _preflight(url, origin)
        assert preflight.headers["access-control-allow-origin"] == origin
        assert preflight.headers["access-control-allow-credentials"] == "true"
        answer = httpx.post(
            url + "/threads", json={}, headers={"Origin": origin, "Authorization": "Bearer x"}
        )
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-credentials"] == "true"
