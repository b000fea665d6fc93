"""The audit log and the internal endpoints.

On one PostgreSQL: ``lg-deploy intake`` (JSON logs; ``X-Forwarded-For`` trusted only from
192.0.2.1) driven through the official SDK, and ``lg-deploy cron``, ``webhooks`` and
``builder`` alone with ``LG_DEPLOY_INTERNAL_TOKEN``. An open deployment's caller is the default
tenant's anonymous admin, so no keys are needed. Refused requests (401/403) need an
authenticating deployment: intake's own app is driven in this process over a real runtime
whose :class:`~shared.auth.access.Access` refuses requests without ``X-Test-Tenant``.

Guarantees: deletes, cancels and assistant/cron changes appear in ``GET /admin/audit`` with
who, tenant, action, resource, status, client and request id, and as one JSON log line each;
which routes are recorded follows from the route table; 401/403 answers are counted per
minute and client, written at the latest when intake stops; the table refuses UPDATE, DELETE
and TRUNCATE; the internal functions refuse callers without the token and serve those with it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from starlette.requests import Request

from functions.intake.audit import classify
from functions.intake.function import IntakeFunction
from shared.auth.access import Action, MetadataFilter, Resource
from shared.auth.context import Caller, RequestContext
from shared.bootstrap import close_runtime, load_project, open_runtime
from shared.config import load_settings
from shared.embedded import start_embedded_postgres, stop_embedded_postgres
from shared.errors import Unauthorized
from shared.runtime.context import Runtime
from tests.faults.helpers import eventually
from tests.support import TEST_GRAPHS, Server, postgres_dir, sdk, start

TOKEN = "internal-" + uuid.uuid4().hex
INTERNAL = ("cron", "webhooks", "builder")


@dataclass
class Deployment:
    """The processes of this module and the database they share."""

    database_url: str
    intake: Server
    internal: dict[str, Server]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("audit")
    with postgres_dir("audit") as base:
        url = start_embedded_postgres(base / "data")
        procs: list[Server] = []
        try:
            intake_env = {
                "LG_DEPLOY_LOG_JSON": "true",
                "LG_DEPLOY_FORWARDED_ALLOW_IPS": "192.0.2.1",
            }
            procs.append(start("intake", database_url=url, env=intake_env, log=tmp / "i.log"))
            internal_env = {
                "LG_DEPLOY_INTERNAL_TOKEN": TOKEN,
                "LG_DEPLOY_BUILDER_DIR": str(tmp / "work"),
                "LG_DEPLOY_BUILDER_ARTIFACTS_DIR": str(tmp / "artifacts"),
            }
            for name in INTERNAL:
                procs.append(start(name, database_url=url, env=internal_env, log=tmp / name))
            yield Deployment(url, procs[0], dict(zip(INTERNAL, procs[1:], strict=True)))
        finally:
            for proc in procs:
                proc.stop()
            stop_embedded_postgres(base / "data")


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[LangGraphClient]:
    async with sdk(deployment.intake) as c:
        yield c


async def audit_rows(
    http: httpx.AsyncClient, done: Callable[[list[dict[str, Any]]], bool], **params: Any
) -> list[dict[str, Any]]:
    """``GET /admin/audit`` with ``params`` once its rows satisfy ``done``."""

    async def listed() -> list[dict[str, Any]] | None:
        answer = await http.get("/admin/audit", params=params)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        return rows if done(rows) else None

    return await eventually(listed, within=10, what=f"audit rows for {params}")


async def audit_row(http: httpx.AsyncClient, action: str, resource_id: str) -> dict[str, Any]:
    """The row of ``action`` on ``resource_id``, once written."""
    rows = await audit_rows(
        http, lambda rows: any(r["resource_id"] == resource_id for r in rows), action=action
    )
    return next(r for r in rows if r["resource_id"] == resource_id)


async def deleted_thread(deployment: Deployment, client: LangGraphClient) -> dict[str, Any]:
    """Create and delete a thread; the audit row of the delete, once written."""
    thread = await client.threads.create()
    await client.threads.delete(thread["thread_id"])
    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        return await audit_row(http, "threads.delete", thread["thread_id"])


async def test_deletes_cancels_and_changes_are_recorded_with_who_and_where(
    deployment: Deployment, client: LangGraphClient
) -> None:
    since = datetime.now(UTC)
    assistant = await client.assistants.create("echo", name="audited")
    aid = assistant["assistant_id"]
    await client.assistants.update(aid, metadata={"v": 2})
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, aid)  # no executor: it stays pending
    await client.runs.cancel(tid, run["run_id"])
    cron = await client.crons.create(aid, schedule="0 0 1 1 *")
    await client.crons.delete(cron["cron_id"])
    await client.threads.delete(tid)
    await client.assistants.delete(aid)
    await client.threads.search()  # reads are not recorded

    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        rows = await audit_rows(
            http,
            lambda rows: sum(r["action"] != "audit.read" for r in rows) == 7,
            since=since.isoformat(),
            limit=50,
        )
    recorded = [(r["action"], r["resource_type"], r["resource_id"], r["status"]) for r in rows]
    assert recorded == [
        ("audit.read", "audit", None, 200),  # the previous polls of this endpoint
    ] * (len(rows) - 7) + [
        ("assistants.delete", "assistants", aid, 204),
        ("threads.delete", "threads", tid, 204),
        ("crons.delete", "crons", cron["cron_id"], 204),
        ("crons.create", "crons", cron["cron_id"], 200),
        ("runs.cancel", "runs", run["run_id"], 202),
        ("assistants.update", "assistants", aid, 200),
        ("assistants.create", "assistants", aid, 200),
    ]
    for row in rows:
        assert (row["tenant_id"], row["identity"], row["role"]) == ("default", None, "admin")
        assert row["client"] == "127.0.0.1"
        assert len(row["request_id"]) == 32
        assert row["count"] == 1
    changes = [r for r in rows if r["action"] != "audit.read"]
    assert len({r["request_id"] for r in changes}) == 7
    assert changes[4]["method"] == "POST"
    assert changes[4]["path"] == f"/threads/{tid}/runs/{run['run_id']}/cancel"


async def test_each_record_is_one_json_log_line(
    deployment: Deployment, client: LangGraphClient
) -> None:
    row = await deleted_thread(deployment, client)

    def logged() -> dict[str, Any] | None:
        for line in deployment.intake.log_text().splitlines():
            if line.startswith("{") and row["request_id"] in line:
                entry: dict[str, Any] = json.loads(line)
                return entry
        return None

    line = await eventually(logged, within=5, what="the audit log line")
    assert line["logger"] == "lg_deploy.audit"
    assert {k: line[k] for k in row if k != "audit_id"} == {
        k: v for k, v in row.items() if k != "audit_id"
    }


async def test_forwarded_for_is_ignored_from_untrusted_peers(deployment: Deployment) -> None:
    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        thread = (await http.post("/threads", json={})).json()
        forged = {"X-Forwarded-For": "203.0.113.50"}
        answer = await http.delete(f"/threads/{thread['thread_id']}", headers=forged)
        assert answer.status_code == 204
        row = await audit_row(http, "threads.delete", thread["thread_id"])
    assert row["client"] == "127.0.0.1"


async def test_the_audit_api_filters_and_pages(deployment: Deployment) -> None:
    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        missing = [str(uuid.uuid4()) for _ in range(3)]
        for thread_id in missing:
            await http.delete(f"/threads/{thread_id}")  # 404s are recorded too
        row = await audit_row(http, "threads.delete", missing[-1])
        assert row["status"] == 404
        page = await http.get("/admin/audit", params={"action": "threads.delete", "limit": 2})
        assert int(page.headers["X-Pagination-Total"]) >= 3
        assert page.headers["X-Pagination-Next"] == "2"
        later = await http.get("/admin/audit", params={"since": "2999-01-01T00:00:00Z"})
        assert later.json() == []
        naive = await http.get("/admin/audit", params={"until": "2000-01-01T00:00:00"})
        assert naive.json() == []  # UTC
        edge = await http.get("/admin/audit", params={"since": "0001-01-01T00:00:00+01:00"})
        assert edge.status_code == 422
        assert (await http.get("/admin/audit", params={"limit": 0})).status_code == 422
    assert [r["resource_id"] for r in page.json()] == missing[:0:-1]


async def test_a_request_path_postgresql_cannot_hold_is_recorded_escaped(
    deployment: Deployment, client: LangGraphClient
) -> None:
    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        assert (await http.delete("/threads/a%00b")).status_code == 422
        row = await audit_row(http, "threads.delete", "a\\x00b")
    assert (row["path"], row["status"]) == ("/threads/a\\x00b", 422)
    await deleted_thread(deployment, client)  # later rows are still written


async def test_the_table_refuses_updates_deletes_and_truncation(
    deployment: Deployment, client: LangGraphClient
) -> None:
    await deleted_thread(deployment, client)
    conn = await asyncpg.connect(deployment.database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM audit_log")
        for statement in (
            "UPDATE audit_log SET identity = 'someone else'",
            "DELETE FROM audit_log",
            "DELETE FROM audit_log WHERE false",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == before
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE identity IS NOT NULL") == 0
    finally:
        await conn.close()


# --- which routes are recorded: read from the route table ---------------------------------


def test_the_route_table_decides_what_is_recorded(runtime_here: Runtime) -> None:
    app: Any = IntakeFunction(runtime_here).app
    recorded = {}
    for path, operations in app.openapi()["paths"].items():
        for method, spec in operations.items():
            method = method.upper()
            op = classify(method, path, tuple(spec["tags"]))
            segments = path.strip("/").split("/")
            must = (
                method == "DELETE"
                or segments[-1] in ("cancel", "prune")
                or segments[0] == "admin"
                or (
                    spec["tags"][0] in ("assistants", "crons", "limits")
                    and method != "GET"
                    and segments[-1] not in ("search", "count", "versions")
                )
            )
            assert (op is not None) == must, (method, path)
            if op is not None:
                recorded[(method, path)] = (op.action, op.id_param)
    assert recorded[("POST", "/threads/{thread_id}/runs/{run_id}/cancel")] == (
        "runs.cancel",
        "run_id",
    )
    assert recorded[("POST", "/runs/cancel")] == ("runs.cancel", None)
    assert recorded[("POST", "/threads/prune")] == ("threads.prune", None)
    assert recorded[("POST", "/threads/{thread_id}/runs/crons")] == ("crons.create", None)
    assert recorded[("POST", "/assistants/{assistant_id}/latest")] == (
        "assistants.latest",
        "assistant_id",
    )
    assert recorded[("DELETE", "/store/items")] == ("store.delete", None)
    assert recorded[("GET", "/admin/audit")] == ("audit.read", None)
    assert ("POST", "/threads/{thread_id}/runs") not in recorded
    assert classify("POST", "/admin/keys/{key_id}/revoke", ("admin",)) is not None


# --- refused requests, in this process over a real runtime ---------------------------------


class HeaderAccess:
    """Authenticates ``X-Test-Tenant: <tenant>/<identity>/<role>``; 401 without it."""

    async def authenticate(self, request: Request) -> RequestContext:
        claimed = request.headers.get("x-test-tenant")
        if claimed is None:
            raise Unauthorized("no credentials", {"WWW-Authenticate": "Bearer"})
        tenant, identity, role = claimed.split("/")
        return RequestContext(tenant, Caller(identity, role=role))  # type: ignore[arg-type]

    async def authorize(
        self, ctx: RequestContext, resource: Resource, action: Action, value: dict[str, Any]
    ) -> MetadataFilter | None:
        return None


@pytest.fixture(scope="module")
async def runtime_here(deployment: Deployment) -> AsyncIterator[Runtime]:
    """A runtime in this process on the module's database, with :class:`HeaderAccess`."""
    settings = load_settings(config=TEST_GRAPHS, database_url=deployment.database_url)
    project, graphs = load_project(settings)
    rt = await open_runtime(settings, deployment.database_url, project, graphs, in_process_bus=True)
    rt.access = HeaderAccess()
    try:
        yield rt
    finally:
        await close_runtime(rt)


async def test_refused_requests_are_counted_per_minute_and_written_at_stop(
    deployment: Deployment, runtime_here: Runtime
) -> None:
    intake = IntakeFunction(runtime_here)
    await intake.start()
    viewer = {"X-Test-Tenant": "acme/vera/viewer"}
    transport = httpx.ASGITransport(app=intake.app, client=("198.51.100.7", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        for _ in range(5):
            assert (await http.post("/threads/search", json={})).status_code == 401
        for _ in range(3):
            assert (await http.get("/admin/audit", headers=viewer)).status_code == 403
        missing = await http.delete(f"/threads/{uuid.uuid4()}", headers=viewer)
        assert missing.status_code == 404
    await intake.stop()  # the counts of this minute, and the delete, are written now

    conn = await asyncpg.connect(deployment.database_url)
    try:
        rows = await conn.fetch(
            "SELECT action, tenant_id, identity, role, method, path, status, client, count,"
            " request_id FROM audit_log WHERE client = '198.51.100.7' ORDER BY action"
        )
    finally:
        await conn.close()
    got = [dict(r) for r in rows]
    request_id = got[2].pop("request_id")
    assert len(request_id) == 32
    assert got == [
        {
            "action": "auth.forbidden",
            "tenant_id": "acme",
            "identity": "vera",
            "role": "viewer",
            "method": None,
            "path": None,
            "status": 403,
            "client": "198.51.100.7",
            "count": 3,
            "request_id": None,
        },
        {
            "action": "auth.unauthorized",
            "tenant_id": None,
            "identity": None,
            "role": None,
            "method": None,
            "path": None,
            "status": 401,
            "client": "198.51.100.7",
            "count": 5,
            "request_id": None,
        },
        {
            "action": "threads.delete",
            "tenant_id": "acme",
            "identity": "vera",
            "role": "viewer",
            "method": "DELETE",
            "path": missing.request.url.path,
            "status": 404,
            "client": "198.51.100.7",
            "count": 1,
        },
    ]

    # the default tenant's admin sees the 401 count (no tenant), not acme's rows
    async with httpx.AsyncClient(base_url=deployment.intake.url) as http:
        (unauthorized,) = (
            await http.get("/admin/audit", params={"action": "auth.unauthorized"})
        ).json()
        assert (unauthorized["client"], unauthorized["count"]) == ("198.51.100.7", 5)
        assert (await http.get("/admin/audit", params={"action": "auth.forbidden"})).json() == []


# --- internal endpoints --------------------------------------------------------------------


def _tick() -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": uuid.uuid4().hex,
        "ce-source": "/tests/audit",
        "ce-type": "dev.lgdeploy.cron.tick",
    }


@pytest.mark.parametrize("name", INTERNAL)
async def test_internal_endpoints_refuse_callers_without_the_token(
    deployment: Deployment, name: str
) -> None:
    async with httpx.AsyncClient(base_url=deployment.internal[name].url) as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"ce-lgdtoken": "wrong"}):
            answer = await http.post("/", headers={**_tick(), **headers})
            assert answer.status_code == 401, answer.text
            assert answer.json()["detail"]
            assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert (await http.get("/ok")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200
        if name == "builder":
            assert (await http.get(f"/builds/{uuid.uuid4()}")).status_code == 401


@pytest.mark.parametrize("name", INTERNAL)
async def test_internal_endpoints_serve_callers_with_the_token(
    deployment: Deployment, name: str
) -> None:
    expected = 400 if name == "builder" else 202  # a tick is no build request: past the gate
    async with httpx.AsyncClient(base_url=deployment.internal[name].url) as http:
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"ce-lgdtoken": TOKEN}):
            answer = await http.post("/", headers={**_tick(), **headers})
            assert answer.status_code == expected, answer.text
        if name == "builder":
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            found = await http.get(f"/builds/{uuid.uuid4()}", headers=bearer)
            assert found.status_code == 404
