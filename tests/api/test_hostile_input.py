"""Hostile input at every entry point (REST, CloudEvents, A2A, MCP): a 4xx naming the problem,
nothing written, never a 500; whatever is accepted can be read back.

The cases are the causes of the server errors a schemathesis campaign and hand-made requests
found (issue 8): integers beyond 64 bits, lone UTF-16 surrogates, deep nesting, NUL in
parameters and messages, unbounded numbers, ``config.tags: null``, chunked bodies over the
limit and waits on runs that will not start for a long time.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shared.api.payload import MAX_DEPTH
from tests.support import Server, dev_server, sdk

JSON = {"Content-Type": "application/json"}
RPC = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def nested(levels: int) -> str:
    """A JSON array ``levels`` deep."""
    return "[" * levels + "]" * levels


def raw(template: str, **parts: str) -> str:
    """JSON text: ``template`` with each ``<name>`` replaced by ``parts[name]``."""
    for name, part in parts.items():
        template = template.replace(f"<{name}>", part)
    return template


async def _runs_created(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith("lgd_runs_created_total "))
    return float(line.split()[1])


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The one problem of an edge refusal: ``{"type", "loc", "msg"}``."""
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    return dict(problem)


# --- JSON values PostgreSQL or the encoder cannot hold ----------------------------------------

UNSTORABLE = [
    ('{"a": 18446744073709551616}', ["a"], "64 bits"),
    ('{"a": 9223372036854775808}', ["a"], "64 bits"),
    ('{"a": [-9223372036854775809]}', ["a", 0], "64 bits"),
    ('{"a": "\\ud800"}', ["a"], "surrogates"),
    ('{"\\udc00x": 1}', ["\\udc00x"], "surrogates"),
    ('{"a": "x\\u0000"}', ["a"], "NUL"),
    (raw('{"a": <v>}', v=nested(MAX_DEPTH)), ["a", *[0] * (MAX_DEPTH - 2)], f"{MAX_DEPTH} levels"),
    (raw('{"a": <v>}', v=nested(5000)), None, f"{MAX_DEPTH} levels"),  # past the decoder's limit
]


@pytest.mark.parametrize(("metadata", "where", "reason"), UNSTORABLE)
async def test_unstorable_json_anywhere_in_a_body_is_422_naming_it_and_writes_nothing(
    http: httpx.AsyncClient, metadata: str, where: list[Any] | None, reason: str
) -> None:
    thread_id = str(uuid.uuid4())
    # the other mistake (if_exists) would reach the 422 handler with the bad value as input
    body = raw(
        '{"thread_id": "<t>", "if_exists": "bogus", "metadata": <m>}', t=thread_id, m=metadata
    )
    problem = _problem(await http.post("/threads", content=body, headers=JSON))
    assert problem["loc"][0] == "body" and reason in problem["msg"]
    if where is not None:
        assert problem["loc"] == ["body", "metadata", *where]
    assert (await http.get(f"/threads/{thread_id}")).status_code == 404


async def test_json_at_the_depth_limit_is_stored_and_reads_back(http: httpx.AsyncClient) -> None:
    namespace = [f"deep{uuid.uuid4().hex}"]
    # the body is level 1, "value" level 2: the deepest array is level MAX_DEPTH
    deepest = json.loads(nested(MAX_DEPTH - 2))
    body = {"namespace": namespace, "key": "k", "value": {"a": deepest}}
    assert (await http.put("/store/items", json=body)).status_code == 204
    item = await http.get("/store/items", params={"namespace": namespace[0], "key": "k"})
    assert item.status_code == 200 and item.json()["value"] == {"a": deepest}
    found = await http.post("/store/items/search", json={"namespace_prefix": namespace})
    assert found.status_code == 200 and len(found.json()["items"]) == 1


@pytest.mark.parametrize(
    "value",
    ['{"n": 9223372036854775808}', raw('{"n": <v>}', v=nested(MAX_DEPTH)), '{"s": "\\udfff"}'],
    ids=["int beyond int64", "too deep", "lone surrogate"],
)
async def test_store_values_that_could_not_be_read_back_are_refused(
    http: httpx.AsyncClient, value: str
) -> None:
    label = f"poison{uuid.uuid4().hex}"
    body = raw('{"namespace": ["<ns>"], "key": "k", "value": <v>}', ns=label, v=value)
    assert (await http.put("/store/items", content=body, headers=JSON)).status_code == 422
    found = await http.post("/store/items/search", json={"namespace_prefix": [label]})
    assert found.status_code == 200 and found.json() == {"items": []}


async def test_large_floats_that_jsonb_stores_as_integers_read_back(
    http: httpx.AsyncClient,
) -> None:
    """``jsonb`` keeps ``1e300`` as the integer ``1000…0``: the store (psycopg) and checkpoint
    metadata must still read it back as a number the answer can encode."""
    numbers = '{"big": 1e300, "u64": 1.5e19, "negative": -1e25}'
    label = f"floats{uuid.uuid4().hex}"
    put = raw('{"namespace": ["<ns>"], "key": "k", "value": <v>}', ns=label, v=numbers)
    assert (await http.put("/store/items", content=put, headers=JSON)).status_code == 204
    item = await http.get("/store/items", params={"namespace": label, "key": "k"})
    assert item.status_code == 200, item.text
    assert item.json()["value"] == {"big": 1e300, "u64": 15 * 10**18, "negative": -1e25}
    found = await http.post("/store/items/search", json={"namespace_prefix": [label]})
    assert found.status_code == 200 and len(found.json()["items"]) == 1
    thread_id = (await http.post("/threads", json={})).json()["thread_id"]
    run = raw('{"assistant_id": "echo", "input": {"items": []}, "metadata": <v>}', v=numbers)
    waited = await http.post(f"/threads/{thread_id}/runs/wait", content=run, headers=JSON)
    assert waited.status_code == 200, waited.text
    for path in ("state", "history"):
        answer = await http.get(f"/threads/{thread_id}/{path}")
        assert answer.status_code == 200, (path, answer.text)


async def test_int64_bounds_themselves_are_accepted(http: httpx.AsyncClient) -> None:
    body = '{"metadata": {"lo": -9223372036854775808, "hi": 9223372036854775807}}'
    response = await http.post("/threads", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    thread = (await http.get(f"/threads/{response.json()['thread_id']}")).json()
    assert thread["metadata"]["lo"] == -(2**63) and thread["metadata"]["hi"] == 2**63 - 1


# --- numbers bounded by what the database holds ----------------------------------------------


async def test_numbers_beyond_their_column_are_422(http: httpx.AsyncClient) -> None:
    thread_id = (await http.post("/threads", json={})).json()["thread_id"]
    assistant_id = (await http.post("/assistants", json={"graph_id": "echo"})).json()[
        "assistant_id"
    ]
    refused = [
        await http.get(f"/threads/{thread_id}/runs", params={"offset": 2**63}),
        await http.post("/threads/search", json={"offset": 2**63}),
        await http.post("/store/namespaces", json={"max_depth": 2**31}),
        await http.post(f"/assistants/{assistant_id}/latest", json={"version": 2**31}),
        await http.put(
            "/store/items", json={"namespace": ["t"], "key": "k", "value": {}, "ttl": 1e300}
        ),
        await http.put(
            "/store/items", json={"namespace": ["t"], "key": "k", "value": {}, "ttl": 5e-324}
        ),
    ]
    assert [r.status_code for r in refused] == [422] * len(refused), [r.text for r in refused]
    largest = await http.get(f"/threads/{thread_id}/runs", params={"offset": 2**63 - 1})
    assert largest.status_code == 200 and largest.json() == []
    missing = await http.post(f"/assistants/{assistant_id}/latest", json={"version": 2**31 - 1})
    assert missing.status_code == 404


# --- NUL in parameters ---------------------------------------------------------------------


async def test_nul_in_query_or_path_parameters_is_422(http: httpx.AsyncClient) -> None:
    thread_id = (await http.post("/threads", json={})).json()["thread_id"]
    history = await http.get(f"/threads/{thread_id}/history", params={"before": "\x00"})
    assert _problem(history)["loc"] == ["query", "before"]
    item = await http.get("/store/items", params={"namespace": "a", "key": "k\x00"})
    assert _problem(item)["loc"] == ["query", "key"]
    a2a = await http.post("/a2a/%00", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get"})
    assert _problem(a2a)["loc"] == ["path", "assistant_id"]


# --- CloudEvents, A2A, MCP ------------------------------------------------------------------


def _ce_headers(**extra: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-type": "dev.lgdeploy.run.create",
        "ce-source": "/hostile",
        "ce-id": str(uuid.uuid4()),
        **JSON,
        **extra,
    }


async def test_cloudevents_with_unstorable_attributes_or_data_are_400_and_run_nothing(
    http: httpx.AsyncClient,
) -> None:
    before = await _runs_created(http)
    structured = {
        "specversion": "1.0",
        "type": "dev.lgdeploy.run.create",
        "source": "/hostile\u0000",
        "id": "a\u0000b",
        "datacontenttype": "application/json",
        "data": {"assistant_id": "echo"},
    }
    answers = [
        await http.post(
            "/cloudevents",
            content=json.dumps(structured),
            headers={"Content-Type": "application/cloudevents+json"},
        ),
        await http.post(
            "/cloudevents",
            content='{"assistant_id": "echo", "metadata": {"n": 99999999999999999999}}',
            headers=_ce_headers(),
        ),
        await http.post(
            "/cloudevents",
            content=raw('{"assistant_id": "echo", "metadata": {"n": <v>}}', v=nested(5000)),
            headers=_ce_headers(),
        ),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert "not accepted" in answer.json()["detail"]
    assert await _runs_created(http) == before


async def test_a2a_text_with_nul_is_a_json_rpc_error_and_runs_nothing(
    http: httpx.AsyncClient,
) -> None:
    before = await _runs_created(http)
    message = {"role": "user", "messageId": "m1", "parts": [{"kind": "text", "text": "a\x00b"}]}
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}}
    response = await http.post("/a2a/chat", json=body, headers=RPC)
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["code"] == -32600 and "params.message.parts.0.text" in error["message"]
    assert await _runs_created(http) == before


@pytest.mark.parametrize("argument", ['"a\\u0000"', "9223372036854775808", nested(MAX_DEPTH)])
async def test_mcp_arguments_that_cannot_be_stored_are_http_400_and_run_nothing(
    http: httpx.AsyncClient, argument: str
) -> None:
    before = await _runs_created(http)
    body = (
        '{"jsonrpc": "2.0", "id": 1, "method": "tools/call",'
        ' "params": {"name": "echo", "arguments": {"x": <a>}}}'
    )
    body = raw(body, a=argument)
    response = await http.post("/mcp", content=body, headers=RPC)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32600
    assert await _runs_created(http) == before


# --- stored config that would fail every run -------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tags", None),
        ("recursion_limit", None),
        ("configurable", None),
        ("max_concurrency", "abc"),
        ("max_concurrency", None),
        ("callbacks", "abc"),
    ],
)
async def test_config_values_that_would_fail_every_run_are_refused(
    http: httpx.AsyncClient, key: str, value: Any
) -> None:
    config = {key: value}
    created = await http.post("/assistants", json={"graph_id": "echo", "config": config})
    assert _problem(created)["loc"] == ["body", "config", key]
    search = {"graph_id": "echo", "metadata": {"created_by": "system"}}
    (system,) = (await http.post("/assistants/search", json=search)).json()
    patched = await http.patch(f"/assistants/{system['assistant_id']}", json={"config": config})
    assert patched.status_code == 422
    run = await http.post("/runs", json={"assistant_id": "echo", "config": config})
    assert run.status_code == 422
    thread_id = (await http.post("/threads", json={})).json()["thread_id"]
    run_body = {"assistant_id": "echo", "input": {"items": ["x"]}}
    result = await http.post(f"/threads/{thread_id}/runs/wait", json=run_body)
    assert result.status_code == 200 and "__error__" not in result.json()


# --- body size ----------------------------------------------------------------------------


async def test_a_chunked_body_over_the_limit_is_413(http: httpx.AsyncClient) -> None:
    thread_id = str(uuid.uuid4())

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"thread_id": "%s", "metadata": {"pad": "' % thread_id.encode()
        for _ in range(11):
            yield b"x" * (1024 * 1024)
        yield b'"}}'

    response = await http.post("/threads", content=chunks(), headers=JSON)
    assert response.status_code == 413 and "detail" in response.json()
    assert (await http.get(f"/threads/{thread_id}")).status_code == 404


# --- waits on runs that will not end soon ---------------------------------------------------


@pytest.fixture(scope="module")
def short_wait_server() -> Iterator[Server]:
    with dev_server("wait", env={"LG_DEPLOY_MAX_WAIT_SECONDS": "1"}) as srv:
        yield srv


YEAR = 365 * 86400


async def test_waits_end_after_the_maximum_with_a_timeout_error_the_sdk_raises(
    short_wait_server: Server,
) -> None:
    async with sdk(short_wait_server) as client, asyncio.timeout(60):  # unbounded: a year
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "echo", input={}, after_seconds=YEAR)
        started = time.monotonic()
        joined = await client.runs.join(thread["thread_id"], run["run_id"])
        assert joined["__error__"]["error"] == "TimeoutError", joined
        with pytest.raises(Exception, match="TimeoutError"):
            await client.runs.wait(None, "echo", input={}, after_seconds=YEAR)
        assert time.monotonic() - started < 30  # two waits of one keepalive period each
        still = await client.runs.get(thread["thread_id"], run["run_id"])
        assert still["status"] == "pending"


async def test_run_streams_end_after_the_maximum_with_an_error_event_and_the_run_goes_on(
    short_wait_server: Server,
) -> None:
    async with sdk(short_wait_server) as client, asyncio.timeout(60):  # unbounded: a year
        thread = await client.threads.create()
        streamed = [
            part
            async for part in client.runs.stream(
                thread["thread_id"],
                "echo",
                input={},
                after_seconds=YEAR,
                on_disconnect="cancel",
                stream_resumable=True,
            )
        ]
        assert streamed[-1].event == "error" and streamed[-1].data["error"] == "TimeoutError"
        (run,) = await client.runs.list(thread["thread_id"])
        assert run["status"] == "pending"  # the stream's end did not cancel it
        joined = [
            part async for part in client.runs.join_stream(thread["thread_id"], run["run_id"])
        ]
        assert [part.event for part in joined] == ["error"]
