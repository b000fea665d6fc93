"""Built-in API keys, tenants and roles: open until the first key exists, then 401 without a
valid key and 403 for a role too weak; ``lg-deploy tenants|keys`` against the data folder of a
running ``lg-deploy dev``; the admin API; the refusal to serve a non-loopback address open.

Every check goes through a real ``lg-deploy dev``, the official ``langgraph_sdk`` (whose
``api_key=`` is sent as ``X-Api-Key``) or raw HTTP.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cloudevents.core.bindings.http import to_binary
from cloudevents.core.formats.json import JSONFormat
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import AuthenticationError, NotFoundError, PermissionDeniedError

from shared.cloud_events.types import RUN_CREATE, new_event
from tests.support import (
    TEST_GRAPHS,
    Server,
    create_api_key,
    dev_server,
    free_port,
    lg_deploy,
    postgres_dir,
    start,
)

CACHE_SECONDS = 1.0
"""LG_DEPLOY_API_KEY_CACHE_SECONDS of the shared server (the default is 5)."""


def create_key(data_dir: Path | None, tenant: str, role: str, name: str | None = None) -> str:
    """A key made by ``lg-deploy keys create``, checked to be alone on stdout's last line."""
    key = create_api_key(data_dir, tenant, role, name)
    assert key.startswith("lgd_") and len(key) > 40 and key == key.strip()
    return key


def client(server: Server, key: str | None, **headers: str) -> LangGraphClient:
    """The official client with ``key`` (``None``: no key at all, not even from the env)."""
    return get_client(url=server.url, api_key=key, headers=headers or None)


def wait_for_status(server: Server, status: int, headers: dict[str, str], seconds: float) -> None:
    """Poll ``POST /threads/search`` until it answers ``status`` (fail after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        got = httpx.post(server.url + "/threads/search", json={}, headers=headers).status_code
        if got == status:
            return
        assert time.monotonic() < deadline, f"still {got} after {seconds}s"
        time.sleep(0.2)


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert isinstance(response.json()["detail"], str)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture(scope="module")
def deployment() -> Iterator[tuple[Server, str]]:
    """``lg-deploy dev`` with a first key, the ``default`` tenant's admin, made by the CLI
    while it runs; the server and that key."""
    env = {"LG_DEPLOY_API_KEY_CACHE_SECONDS": str(CACHE_SECONDS)}
    with dev_server("keys", env=env) as server:
        admin = create_key(server.data_dir, "default", "admin", "root")
        wait_for_status(server, 401, {}, 10)
        yield server, admin


@pytest.fixture
async def admin_http(deployment: tuple[Server, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP as the deployment's administrator."""
    server, admin = deployment
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Api-Key": admin}) as http:
        yield http


async def test_open_until_a_key_exists_then_a_key_made_by_the_cli_is_required() -> None:
    with dev_server("keys-open") as server:
        assert "every request is allowed" in server.log_text()  # said at start-up
        open_client = client(server, None)
        await open_client.threads.create()  # no key: open

        done = lg_deploy(
            server.data_dir, "keys", "create", "--tenant", "default", "--role", "developer"
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        key = lines[-1]
        assert key.startswith("lgd_") and key not in "\n".join(lines[:-1])

        wait_for_status(server, 401, {}, 10)  # the default cache: 5 s
        with pytest.raises(AuthenticationError):
            await open_client.threads.create()
        thread = await client(server, key).threads.create()
        assert thread["thread_id"]
        assert key not in server.log_text()


def test_missing_wrong_or_malformed_credentials_are_401(deployment: tuple[Server, str]) -> None:
    server, admin = deployment
    for headers in (
        {},
        {"X-Api-Key": "lgd_not-a-key"},
        {"Authorization": f"Bearer {admin}x"},
        {"Authorization": f"Basic {admin}"},
        {"X-Api-Key": admin[:-1]},
    ):
        assert_unauthorized(httpx.post(server.url + "/threads", json={}, headers=headers))
    assert httpx.get(server.url + "/ok").status_code == 200  # health stays open


async def test_x_api_key_bearer_and_the_langsmith_scheme_are_accepted(
    deployment: tuple[Server, str],
) -> None:
    server, admin = deployment
    assert (await client(server, admin).threads.create())["thread_id"]
    langsmith = client(server, admin, **{"X-Auth-Scheme": "langsmith-api-key"})
    assert (await langsmith.threads.create())["thread_id"]
    bearer = client(server, None, Authorization=f"Bearer {admin}")
    assert (await bearer.threads.create())["thread_id"]


async def test_a_viewer_reads_but_may_not_create_a_thread(deployment: tuple[Server, str]) -> None:
    server, _ = deployment
    viewer = client(server, create_key(server.data_dir, "default", "viewer"))
    assert isinstance(await viewer.threads.search(), list)  # a new key is valid at once
    with pytest.raises(PermissionDeniedError) as refused:
        await viewer.threads.create()
    assert "viewer" in refused.value.response.json()["detail"]


async def test_the_cli_lists_and_revokes_keys_while_dev_runs(
    deployment: tuple[Server, str],
) -> None:
    server, admin = deployment
    key = create_key(server.data_dir, "default", "developer", "ci")
    developer = client(server, key)
    await developer.threads.create()

    listed = lg_deploy(server.data_dir, "keys", "list", "--tenant", "default")
    assert listed.returncode == 0, listed.stderr
    assert "ci" in listed.stdout and "developer" in listed.stdout and key not in listed.stdout

    revoked = lg_deploy(server.data_dir, "keys", "revoke", "ci")
    assert revoked.returncode == 0, revoked.stderr
    wait_for_status(server, 401, {"X-Api-Key": key}, CACHE_SECONDS + 5)
    again = lg_deploy(server.data_dir, "keys", "revoke", "ci")  # no live key has that name now
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    # the command line's changes are in the audit log, as the admin API's are
    async with httpx.AsyncClient(base_url=server.url, headers={"X-Api-Key": admin}) as http:
        audit = (await http.get("/admin/audit", params={"action": "keys.revoke"})).json()
    assert [(e["resource_type"], e["identity"][:4], e["tenant_id"]) for e in audit] == [
        ("keys", "cli:", "default")
    ]


def test_cli_refuses_an_unknown_tenant_or_role_with_exit_2(
    deployment: tuple[Server, str],
) -> None:
    server, _ = deployment
    for tenant, role, word in (("nope", "admin", "nope"), ("default", "boss", "boss")):
        done = lg_deploy(server.data_dir, "keys", "create", "--tenant", tenant, "--role", role)
        assert done.returncode == 2
        assert done.stdout == "" and done.stderr.count("\n") == 1 and word in done.stderr


async def test_admin_api_manages_tenants_and_keys(
    deployment: tuple[Server, str], admin_http: httpx.AsyncClient
) -> None:
    server, _ = deployment
    made = await admin_http.post("/admin/tenants", json={"tenant_id": "acme", "name": "Acme"})
    assert made.status_code == 200 and made.json()["tenant_id"] == "acme"
    assert (await admin_http.post("/admin/tenants", json={"tenant_id": "acme"})).status_code == 409
    bad = await admin_http.post("/admin/tenants", json={"tenant_id": "no spaces"})
    assert bad.status_code == 422
    tenants = (await admin_http.get("/admin/tenants")).json()
    assert {"default", "acme"} <= {t["tenant_id"] for t in tenants}

    body = {"tenant_id": "acme", "role": "admin", "name": "acme-admin"}
    created = (await admin_http.post("/admin/keys", json=body)).json()
    assert created["tenant_id"] == "acme" and created["key"].startswith("lgd_")
    assert (await admin_http.post("/admin/keys", json=body)).status_code == 409
    unknown = await admin_http.post("/admin/keys", json={"tenant_id": "zz", "role": "viewer"})
    assert unknown.status_code == 404
    listed = (await admin_http.get("/admin/keys", params={"tenant_id": "acme"})).json()
    assert [k["name"] for k in listed] == ["acme-admin"] and "key" not in listed[0]

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {created['key']}"}
    ) as acme:
        # the context carries the key's tenant: a tenant admin sees and serves its own tenant
        assert [t["tenant_id"] for t in (await acme.get("/admin/tenants")).json()] == ["acme"]
        own = (await acme.post("/admin/keys", json={"role": "viewer"})).json()
        assert own["tenant_id"] == "acme"
        assert {k["tenant_id"] for k in (await acme.get("/admin/keys")).json()} == {"acme"}
        foreign = await acme.post("/admin/keys", json={"tenant_id": "default", "role": "admin"})
        assert foreign.status_code == 403
        assert (await acme.post("/admin/tenants", json={"tenant_id": "b"})).status_code == 403
        root_key = [k for k in (await admin_http.get("/admin/keys")).json() if k["name"] == "root"]
        hidden = await acme.delete(f"/admin/keys/{root_key[0]['key_id']}")
        assert hidden.status_code == 404

        gone = (await acme.delete(f"/admin/keys/{own['key_id']}")).json()
        assert gone["revoked_at"] is not None
        wait_for_status(server, 401, {"X-Api-Key": own["key"]}, CACHE_SECONDS + 5)


def test_admin_api_needs_the_admin_role(deployment: tuple[Server, str]) -> None:
    server, _ = deployment
    operator = create_key(server.data_dir, "default", "operator")
    for method, path in (("GET", "/admin/keys"), ("GET", "/admin/tenants")):
        answer = httpx.request(method, server.url + path, headers={"X-Api-Key": operator})
        assert answer.status_code == 403 and "admin" in answer.json()["detail"]


def test_openapi_documents_401_and_403(deployment: tuple[Server, str]) -> None:
    server, _ = deployment
    spec = httpx.get(server.url + "/openapi.json").json()
    for path, method in (("/threads", "post"), ("/admin/keys", "post"), ("/runs/wait", "post")):
        assert {"401", "403"} <= set(spec["paths"][path][method]["responses"]), path
    assert "401" not in spec["paths"]["/ok"]["get"]["responses"]


def test_dev_refuses_an_open_non_loopback_address() -> None:
    """Exit 2 with one message, unless --allow-unauthenticated; a key, or
    LG_DEPLOY_REQUIRE_API_KEY, makes it start."""
    with postgres_dir("keys-exposed") as base:
        data_dir = base / "data"
        args = [
            "dev",
            "--config",
            str(TEST_GRAPHS),
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
        ]
        refused = lg_deploy(data_dir, *args)
        assert refused.returncode == 2
        assert "Traceback" not in refused.stderr
        assert "--allow-unauthenticated" in refused.stderr.splitlines()[-1]

        allowed = start(
            "dev",
            data_dir=data_dir,
            log=base / "open.log",
            extra=["--host", "0.0.0.0", "--allow-unauthenticated"],
        )
        try:
            assert httpx.post(allowed.url + "/threads", json={}).status_code == 200
            assert "every request is allowed" in allowed.log_text()
        finally:
            allowed.stop()

        required = start(
            "dev",
            data_dir=data_dir,
            log=base / "required.log",
            extra=["--host", "0.0.0.0"],
            env={"LG_DEPLOY_REQUIRE_API_KEY": "true"},
        )
        try:  # no key exists, yet none is open: the chart's default
            assert_unauthorized(httpx.post(required.url + "/threads", json={}))
        finally:
            required.stop()

        key = create_key(data_dir, "default", "admin")  # no server runs: the CLI starts PostgreSQL
        closed = start(
            "dev", data_dir=data_dir, log=base / "closed.log", extra=["--host", "0.0.0.0"]
        )
        try:
            assert_unauthorized(httpx.post(closed.url + "/threads", json={}))
            answer = httpx.post(closed.url + "/threads", json={}, headers={"X-Api-Key": key})
            assert answer.status_code == 200
        finally:
            closed.stop()


async def test_a_cloudevent_presents_its_key_as_an_extension(
    deployment: tuple[Server, str],
) -> None:
    """Knative sources add CloudEvent extensions, not headers: ``lgdapikey`` (binary mode
    ``ce-lgdapikey``) authenticates the event; its run belongs to that key's tenant."""
    server, admin = deployment
    assert lg_deploy(server.data_dir, "tenants", "create", "events").returncode == 0
    key = create_key(server.data_dir, "events", "developer", "pinger")
    tenant_events = client(server, key)
    thread = await tenant_events.threads.create()
    data = {"assistant_id": "echo", "input": {"items": []}, "thread_id": thread["thread_id"]}
    event = new_event(RUN_CREATE, "/tests/ping-source", data)
    without = to_binary(event, JSONFormat())
    keyed = type(event)(attributes={**event.get_attributes(), "lgdapikey": key}, data=data)
    message = to_binary(keyed, JSONFormat())
    assert message.headers["ce-lgdapikey"] == key
    async with httpx.AsyncClient(base_url=server.url) as http:
        refused = await http.post("/cloudevents", headers=without.headers, content=without.body)
        answer = await http.post("/cloudevents", headers=message.headers, content=message.body)
    assert_unauthorized(refused)
    assert answer.status_code == 202, answer.text
    run = answer.json()
    assert (await tenant_events.runs.get(run["thread_id"], run["run_id"]))["run_id"]
    with pytest.raises(NotFoundError):  # the default tenant's admin does not see it
        await client(server, admin).runs.get(run["thread_id"], run["run_id"])


async def test_a_new_key_is_its_tenants_at_once() -> None:
    """A process learns that keys exist only within LG_DEPLOY_API_KEY_CACHE_SECONDS, but a
    request presenting a valid key is never served as the open deployment's admin meanwhile:
    it is its key's tenant from the first request."""
    env = {"LG_DEPLOY_API_KEY_CACHE_SECONDS": "60"}
    with dev_server("keys-first", env=env) as server:
        open_client = client(server, None)
        await open_client.threads.search()  # the process now remembers: no key exists
        assert lg_deploy(server.data_dir, "tenants", "create", "acme").returncode == 0
        acme = client(server, create_key(server.data_dir, "acme", "admin"))
        thread = await acme.threads.create()
        assert (await acme.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
        with pytest.raises(NotFoundError):  # not the default tenant's
            await open_client.threads.get(thread["thread_id"])
