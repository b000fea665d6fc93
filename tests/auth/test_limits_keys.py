"""Per-tenant limits between tenants of built-in API keys, through the official SDK: the
operator role sets its own tenant's limits, they bind that tenant only, and executors claim
fairly between tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError, RateLimitError

from tests.support import Server, create_api_key, dev_server, lg_deploy


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """``lg-deploy dev`` with one executor slot (claims happen one at a time)."""
    with dev_server("limits-keys", env={"LG_DEPLOY_N_JOBS": "1"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    """API keys by ``tenant/role`` (tenants made by ``lg-deploy``)."""
    for tenant in ("acme", "umbrella", "initech"):
        assert lg_deploy(server.data_dir, "tenants", "create", tenant).returncode == 0
    return {
        f"{tenant}/{role}": create_api_key(server.data_dir, tenant, role)
        for tenant, role in (
            ("acme", "operator"),
            ("acme", "viewer"),
            ("umbrella", "operator"),
            ("initech", "developer"),
        )
    }


@pytest.fixture
async def clients(
    server: Server, keys: dict[str, str]
) -> AsyncIterator[dict[str, LangGraphClient]]:
    """The SDK with each key, by ``tenant/role``."""
    made = {name: get_client(url=server.url, api_key=key) for name, key in keys.items()}
    yield made
    for client in made.values():
        await client.aclose()


async def test_an_operator_sets_its_own_tenants_limits_which_bind_that_tenant_only(
    clients: dict[str, LangGraphClient],
) -> None:
    acme, umbrella = clients["acme/operator"], clients["umbrella/operator"]
    with pytest.raises(PermissionDeniedError):
        await clients["acme/viewer"].http.get("/tenants/acme/limits")
    with pytest.raises(NotFoundError):
        await umbrella.http.get("/tenants/acme/limits")
    put = await acme.http.put("/tenants/acme/limits", json={"requests_per_window": 1})
    assert put["effective"]["requests_per_window"] == 1
    await acme.threads.search(limit=1)
    with pytest.raises(RateLimitError):
        await acme.threads.search(limit=1)
    for _ in range(3):  # the other tenant is not limited
        await umbrella.threads.search(limit=1)
    other = await umbrella.http.get("/tenants/umbrella/limits")
    assert other["effective"]["requests_per_window"] is None


async def test_a_tenants_single_run_starts_before_another_tenants_queue(
    clients: dict[str, LangGraphClient],
) -> None:
    initech, umbrella = clients["initech/developer"], clients["umbrella/operator"]
    # umbrella's run holds the only slot while umbrella queues 20 more and initech one
    blocker_thread = (await umbrella.threads.create())["thread_id"]
    config = {"configurable": {"sleep": 0.5}}
    blocker = await umbrella.runs.create(blocker_thread, "slow", input={}, config=config)
    queue = []
    for _ in range(20):
        thread_id = (await umbrella.threads.create())["thread_id"]
        queue.append(await umbrella.runs.create(thread_id, "echo", input={}))
    thread_id = (await initech.threads.create())["thread_id"]
    single = await initech.runs.create(thread_id, "echo", input={})
    assert (await umbrella.runs.get(blocker_thread, blocker["run_id"]))["status"] == "running"
    await initech.runs.join(thread_id, single["run_id"])
    ended = (await initech.runs.get(thread_id, single["run_id"]))["updated_at"]
    for run in queue:  # one slot: each of umbrella's queued runs ended after initech's
        await umbrella.runs.join(run["thread_id"], run["run_id"])
        assert (await umbrella.runs.get(run["thread_id"], run["run_id"]))["updated_at"] > ended
