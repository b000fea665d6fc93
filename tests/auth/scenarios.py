"""The requests the custom auth tests send, through the official ``langgraph_sdk`` with each
user's headers, and their answers reduced to what the tests compare: the status, the refusal's
``detail`` and auth headers, or the part of the result that shows the behaviour (metadata,
counts, what the graph saw), free of ids and times.

One scenario per project of ``tests/auth/project`` (:data:`PROJECTS`). The same answers are
asserted against the expected behaviour (test_custom_auth.py) and against the official server's
(test_official_parity.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

PROJECT = Path(__file__).parent / "project"
AUTH_HEADERS = ("www-authenticate", "retry-after")
OPEN_PATHS = ("/", "/ok", "/info", "/docs", "/openapi.json")


@dataclass(frozen=True)
class Answer:
    """``status``; for a refusal its ``detail`` and auth ``headers``; else ``data``."""

    status: int
    detail: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    data: Any = None


async def answer(call: Awaitable[Any], pick: Callable[[Any], Any] = lambda r: r) -> Answer:
    """The answer to ``call``: ``pick`` of its result, or the refusal."""
    try:
        result = await call
    except httpx.HTTPStatusError as exc:
        response = exc.response
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() in AUTH_HEADERS)
        return Answer(response.status_code, detail, headers)
    return Answer(200, data=pick(result))


def metadata(thread: dict[str, Any]) -> dict[str, Any]:
    return thread["metadata"]


def seen(result: dict[str, Any]) -> Any:
    return result["seen"]


class Users:
    """A client per token (``None``: no ``Authorization`` header) on one server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[str | None, LangGraphClient] = {}

    def __call__(self, token: str | None) -> LangGraphClient:
        if token not in self._clients:
            headers = {"Authorization": f"Bearer {token}"} if token else None
            self._clients[token] = get_client(url=self.url, headers=headers)
        return self._clients[token]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


async def private(users: Users) -> dict[str, Answer]:
    """The "Make conversations private" tutorial (``langgraph.json``, ``private.py``): two
    users, each sees only what they created."""
    alice, bob = users("user1-token"), users("user2-token")
    out: dict[str, Answer] = {}
    out["no token"] = await answer(users(None).threads.search())
    out["unknown token"] = await answer(users("nobody").threads.search())
    thread = await alice.threads.create(metadata={"topic": "pets"})
    tid = thread["thread_id"]
    out["create"] = Answer(200, data=metadata(thread))
    out["owner reads"] = await answer(alice.threads.get(tid), metadata)
    out["other reads"] = await answer(bob.threads.get(tid), metadata)
    out["other updates"] = await answer(bob.threads.update(tid, metadata={"x": 1}), metadata)
    out["other state"] = await answer(bob.threads.get_state(tid), lambda s: s["values"])
    out["other runs"] = await answer(bob.runs.wait(tid, "whoami", input={}), seen)
    out["other deletes"] = await answer(bob.threads.delete(tid))
    out["owner searches"] = await answer(
        alice.threads.search(), lambda ts: [metadata(t) for t in ts]
    )
    out["other searches"] = await answer(bob.threads.search(), lambda ts: [metadata(t) for t in ts])
    out["owner counts"] = await answer(alice.threads.count())
    out["other counts"] = await answer(bob.threads.count())
    out["owner runs"] = await answer(alice.runs.wait(tid, "whoami", input={}), seen)
    out["run owners"] = await answer(
        alice.runs.list(tid), lambda runs: [r["metadata"].get("owner") for r in runs]
    )
    run_id = (await alice.runs.list(tid))[0]["run_id"]
    out["other joins"] = await answer(bob.runs.join(tid, run_id))
    out["factory"] = await answer(alice.runs.wait(tid, "whoami_factory", input={}), seen)
    assistant = await answer(alice.assistants.create("whoami", metadata={"team": "a"}), metadata)
    out["assistant create"] = assistant
    out["other assistants"] = await answer(bob.assistants.search(), lambda a: len(a))
    return out


async def scoped(users: Users) -> dict[str, Answer]:
    """The tutorial's scoped handlers (``scoped.json``, ``scoped.py``): threads per owner,
    every assistant action refused by ``@auth.on.assistants``."""
    alice, bob = users("user1-token"), users("user2-token")
    out: dict[str, Answer] = {}
    thread = await alice.threads.create()
    out["create"] = Answer(200, data=metadata(thread))
    out["other reads"] = await answer(bob.threads.get(thread["thread_id"]), metadata)
    out["owner searches"] = await answer(
        alice.threads.search(), lambda ts: [metadata(t) for t in ts]
    )
    out["assistant create"] = await answer(alice.assistants.create("whoami"), metadata)
    out["assistant search"] = await answer(alice.assistants.search(), len)
    return out


async def permissions(users: Users) -> dict[str, Answer]:
    """Permission-based access (``permissions.json``, ``permissions.py``): deny by default,
    threads by permission, runs by owner, the store per user, and authentication's refusals."""
    writer, reader = users("writer-token"), users("reader-token")
    out: dict[str, Answer] = {}
    out["no token"] = await answer(users(None).threads.search())
    out["locked token"] = await answer(users("locked-token").threads.search())
    out["unknown token"] = await answer(users("nobody").threads.search())
    thread = await writer.threads.create(metadata={"topic": "plans"})
    tid = thread["thread_id"]
    out["create"] = Answer(200, data=metadata(thread))
    out["create without permission"] = await answer(reader.threads.create(), metadata)
    out["owner reads"] = await answer(writer.threads.get(tid), metadata)
    out["other reads"] = await answer(reader.threads.get(tid), metadata)
    out["search denied"] = await answer(writer.threads.search())
    out["update denied"] = await answer(writer.threads.update(tid, metadata={"x": 1}))
    out["assistants denied"] = await answer(writer.assistants.search())
    out["crons denied"] = await answer(writer.crons.search())
    out["run"] = await answer(writer.runs.wait(tid, "whoami", input={}), seen)
    out["stateless run"] = await answer(writer.runs.wait(None, "whoami", input={}), seen)
    out["factory"] = await answer(writer.runs.wait(tid, "whoami_factory", input={}), seen)
    out["store put"] = await answer(writer.store.put_item(["memories"], "k", {"v": 1}))
    out["store get"] = await answer(writer.store.get_item(["memories"], "k"), _item)
    out["store other get"] = await answer(reader.store.get_item(["memories"], "k"), _item)
    out["store search"] = await answer(
        writer.store.search_items(["memories"]), lambda r: [_item(i) for i in r["items"]]
    )
    out["store namespaces"] = await answer(
        writer.store.list_namespaces(prefix=["memories"]), lambda r: r["namespaces"]
    )
    async with httpx.AsyncClient(base_url=users.url) as http:
        for path in OPEN_PATHS:
            out[f"open {path}"] = Answer((await http.get(path)).status_code)
        spec = (await http.get("/openapi.json")).json()
    out["openapi"] = Answer(
        200,
        data={
            "securitySchemes": spec["components"].get("securitySchemes"),
            "security": spec.get("security"),
            "/threads/search post": spec["paths"]["/threads/search"]["post"].get("security"),
            "/threads post": spec["paths"]["/threads"]["post"].get("security"),
        },
    )
    return out


def _item(item: dict[str, Any] | None) -> Any:
    return None if item is None else {"namespace": item["namespace"], "value": item["value"]}


Answers = dict[str, Answer]
Scenario = Callable[[Users], Awaitable[Answers]]
Played = Callable[[str], Answers]
"""A fixture's answers: ``played(project)`` is that project's."""

PROJECTS: dict[str, tuple[str, Scenario]] = {
    "private": ("langgraph.json", private),
    "scoped": ("scoped.json", scoped),
    "permissions": ("permissions.json", permissions),
}
"""Project name → its ``langgraph.json`` (in :data:`PROJECT`) and scenario."""


async def play(url: str, project: str) -> dict[str, Answer]:
    """``project``'s scenario against the server at ``url``."""
    users = Users(url)
    try:
        return await PROJECTS[project][1](users)
    finally:
        await users.close()
