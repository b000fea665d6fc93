"""lg-deploy against the official server (``langgraph dev``, langgraph-cli[inmem]) on the same
project and the same requests through the official ``langgraph_sdk``: every answer, normalised
(:mod:`tests.ecosystem.normalise`: ids, times and URLs replaced, the documented differences of
tests/ecosystem/README.md dropped), must be the same.

Both servers get each request sequence at the same time; a sequence's answers are kept for the
module, so each test compares one part of them (one stream mode, the thread state, ...) and a
failure names exactly what differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from tests.ecosystem import prompts
from tests.ecosystem.normalise import (
    assert_same,
    lift_message_fields,
    normalise,
    pick,
    settle_output_ids,
)
from tests.support import Server, sdk

DROP = [
    # 1. what the official server says about itself: product, version, plan, URL
    "langgraph_api_url",
    "langgraph_api_version",
    "langgraph_host",
    "langgraph_plan",
    # 2. the official server's per-request bookkeeping in the run's configurable
    "langgraph_request_id",
    "__request_start_time_ms__",
    "__after_seconds__",
    # 3. authentication (lg-deploy has none yet): the user and permissions of the request
    "langgraph_auth_user",
    "langgraph_auth_user_id",
    "langgraph_auth_permissions",
    "configurable.user_id",
    "metadata.user_id",
    # 4. checkpoint metadata as langgraph-checkpoint-postgres stores it: scalars only, no thread_id
    "metadata.thread_id",
    "metadata.lc_versions",
    "metadata.lc_agent_name",
]
"""Dict keys left out of every comparison: the deliberate differences, numbered as in
tests/ecosystem/README.md, "Differences" (``"parent.key"``: only under ``parent``)."""

ASIDE = {
    "run metadata": ["run_attempt", "langgraph_version"],
    "checkpoint configs": [
        "checkpoint_map",
        "checkpoint.checkpoint_id",
        "payload.checkpoint",
        "payload.parent_checkpoint",
        "tasks.checkpoint",
        "tasks.state",
    ],
}
"""Keys compared by a test of their own (:func:`test_run_metadata_is_the_same`,
:func:`test_checkpoint_configs_are_the_same`) and left out of the others, so that one
difference in them fails one test, not every test that meets them."""
ALL_ASIDE = [rule for rules in ASIDE.values() for rule in rules]


def main(value: Any) -> Any:
    """``value`` without the keys :data:`ASIDE` (compared by their own tests), the ids of
    messages in node outputs settled (README, "Differences" 8)."""
    return settle_output_ids(normalise(value, ALL_ASIDE))


def same(ours: Any, official: Any, what: str) -> None:
    """:func:`assert_same` on the parts of the answers no :data:`ASIDE` test compares."""
    assert_same(main(ours), main(official), what)


GRAPHS = [
    "react_agent",
    "email_agent",
    "deep_agent",
    "research_team",
    "swarm",
    "memory_agent",
    "enrichment",
]
APPROVE = {"resume": {"decisions": [{"type": "approve"}]}}
REJECT = {"resume": {"decisions": [{"type": "reject", "message": "Not now."}]}}
EDIT = {
    "resume": {
        "decisions": [
            {
                "type": "edit",
                "edited_action": {
                    "name": "send_email",
                    "args": {"to": "carol@example.com", "subject": "Lunch", "body": "Noon?"},
                },
            }
        ]
    }
}


@dataclass(frozen=True)
class Step:
    """One run on the sequence's thread: ``input`` or ``command``, and its ``context``."""

    input: dict[str, Any] | None = None
    command: dict[str, Any] | None = None
    context: dict[str, Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input": self.input, "command": self.command}
        if self.context is not None:
            out["context"] = self.context
        return out


@dataclass(frozen=True)
class Sequence:
    """Runs of one graph on one new thread."""

    graph: str
    steps: list[Step] = field(default_factory=list)


ADA = {"user_name": "Ada", "model": "openai:other-model"}
SEQUENCES = {
    "react_agent": Sequence("react_agent", [Step(prompts.WEATHER), Step(prompts.WHOAMI)]),
    "react_agent-context": Sequence("react_agent", [Step(prompts.WHOAMI, context=ADA)]),
    "email_agent-approve": Sequence("email_agent", [Step(prompts.EMAIL), Step(command=APPROVE)]),
    "email_agent-reject": Sequence("email_agent", [Step(prompts.EMAIL), Step(command=REJECT)]),
    "email_agent-edit": Sequence("email_agent", [Step(prompts.EMAIL), Step(command=EDIT)]),
    "email_agent-no-review": Sequence("email_agent", [Step(prompts.INBOX)]),
    "deep_agent": Sequence("deep_agent", [Step(prompts.NOTES), Step(prompts.RESEARCH)]),
    "research_team": Sequence("research_team", [Step(prompts.SUM)]),
    "swarm": Sequence("swarm", [Step(prompts.HANDOFF), Step(prompts.STILL_BOB)]),
    "memory_agent": Sequence(
        "memory_agent",
        [
            Step(prompts.REMEMBER_HIKING),
            Step(prompts.REMEMBER_CAT),
            Step(prompts.ASK_CAT),
        ],
    ),
    "enrichment": Sequence("enrichment", [Step(prompts.TOPIC)]),
}
# Each run makes one tool call at a time: parallel calls finish in any order, and so do their
# events on both servers.
MODES = ["values", "updates", "messages-tuple", "custom", "tasks", "checkpoints", "debug"]
"""The stream modes asked together in one stream per run."""
EVENT_NAMES = {
    "messages-tuple": {"messages"},
    "messages": {"messages/metadata", "messages/partial", "messages/complete"},
}
"""Event names of a stream mode whose events are not named after it."""
WITH_SUBGRAPHS = ["deep_agent", "research_team", "swarm"]
"""Sequences also streamed with ``stream_subgraphs=True``."""


class Pair:
    """The official client on both servers; :meth:`both` runs a request sequence on each at
    once and keeps the normalised answers ``(ours, official)`` for the module."""

    def __init__(self, ours: LangGraphClient, official: LangGraphClient) -> None:
        self.ours = ours
        self.official = official
        self._done: dict[str, asyncio.Task[tuple[Any, Any]]] = {}

    async def both(
        self, key: str, scenario: Callable[[LangGraphClient], Awaitable[Any]]
    ) -> tuple[Any, Any]:
        """``scenario`` run on both servers (once per ``key`` in the module), normalised."""
        if key not in self._done:

            async def run() -> tuple[Any, Any]:
                ours, official = await asyncio.gather(scenario(self.ours), scenario(self.official))
                # 5. the official in-memory runtime's message round trip
                official = lift_message_fields(official)
                return normalise(ours, DROP), normalise(official, DROP)

            self._done[key] = asyncio.ensure_future(run())
        return await self._done[key]


@pytest.fixture(scope="module")
async def pair(lg_deploy: Server, official: Server) -> AsyncIterator[Pair]:
    """The official client on this module's lg-deploy and on the official server."""
    async with sdk(lg_deploy) as a, sdk(official) as b:
        yield Pair(a, b)


async def answer(call: Awaitable[Any]) -> Any:
    """What a call returned, or the HTTP status and body of its error."""
    try:
        return await call
    except httpx.HTTPStatusError as exc:
        body: Any
        try:
            body = exc.response.json()
        except ValueError:
            body = exc.response.text
        return {"status": exc.response.status_code, "body": body}


async def system_assistant(c: LangGraphClient, graph: str) -> str:
    """The id of the assistant the server made for ``graph``."""
    found = await c.assistants.search(graph_id=graph, metadata={"created_by": "system"})
    return str(found[0]["assistant_id"])


# --- assistants, schemas, drawings -----------------------------------------------------------


async def test_system_assistants_are_the_same(pair: Pair) -> None:
    async def scenario(c: LangGraphClient) -> Any:
        return sorted(await c.assistants.search(limit=100), key=lambda a: a["graph_id"])

    ours, official = await pair.both("assistants", scenario)
    same(ours, official, "assistants.search()")


@pytest.mark.parametrize("graph", GRAPHS)
async def test_schemas_are_the_same(pair: Pair, graph: str) -> None:
    async def scenario(c: LangGraphClient) -> Any:
        return await c.assistants.get_schemas(await system_assistant(c, graph))

    ours, official = await pair.both(f"schemas {graph}", scenario)
    same(ours, official, f"assistants.get_schemas({graph!r})")


@pytest.mark.parametrize("graph", GRAPHS)
async def test_graph_drawings_are_the_same(pair: Pair, graph: str) -> None:
    async def scenario(c: LangGraphClient) -> Any:
        aid = await system_assistant(c, graph)
        return {
            "plain": await c.assistants.get_graph(aid),
            "xray": await c.assistants.get_graph(aid, xray=True),
            "subgraphs": await c.assistants.get_subgraphs(aid, recurse=True),
        }

    ours, official = await pair.both(f"drawing {graph}", scenario)
    same(ours, official, f"assistants.get_graph/get_subgraphs({graph!r})")


# --- runs.wait, thread state and history -------------------------------------------------------


async def wait_sequence(c: LangGraphClient, seq: Sequence) -> dict[str, Any]:
    thread = await c.threads.create()
    tid = thread["thread_id"]
    results = [
        await c.runs.wait(tid, seq.graph, raise_error=False, **step.kwargs()) for step in seq.steps
    ]
    return {
        "new_thread": thread,
        "results": results,
        "thread": await c.threads.get(tid),
        "state": await c.threads.get_state(tid),
        "history": await c.threads.get_history(tid, limit=100),
        "runs": [r["status"] for r in await c.runs.list(tid)],
    }


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_wait_results_are_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    same(ours["results"], official["results"], f"runs.wait results of {name}")
    same(ours["runs"], official["runs"], f"run statuses of {name}")


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_thread_state_is_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    same(ours["state"], official["state"], f"threads.get_state after {name}")


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_thread_is_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    same(ours["thread"], official["thread"], f"threads.get after {name}")


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_history_is_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    assert len(ours["history"]) == len(official["history"]), f"history length of {name}"
    same(ours["history"], official["history"], f"threads.get_history after {name}")


async def test_new_thread_is_the_same(pair: Pair) -> None:
    seq = SEQUENCES["react_agent"]
    ours, official = await pair.both("wait react_agent", lambda c: wait_sequence(c, seq))
    same(ours["new_thread"], official["new_thread"], "threads.create()")


# --- streams -----------------------------------------------------------------------------------


async def stream_sequence(
    c: LangGraphClient, seq: Sequence, modes: list[str], subgraphs: bool = False
) -> list[list[Any]]:
    """Each run's events ``[name, data]``, runs one after the other on one thread."""
    tid = (await c.threads.create())["thread_id"]
    runs = []
    for step in seq.steps:
        events = c.runs.stream(
            tid, seq.graph, stream_mode=modes, stream_subgraphs=subgraphs, **step.kwargs()
        )
        runs.append([[part.event, part.data] async for part in events])
    return runs


def of_mode(runs: list[list[Any]], mode: str) -> list[list[Any]]:
    """The events of ``mode`` (subgraph events ``<mode>|<ns>`` included) in each run."""
    names = EVENT_NAMES.get(mode, {mode})
    return [[e for e in run if e[0].split("|")[0] in names] for run in runs]


def stream_cases() -> list[Any]:
    cases = [pytest.param(name, False, id=name) for name in SEQUENCES]
    cases += [pytest.param(name, True, id=f"{name}-subgraphs") for name in WITH_SUBGRAPHS]
    return cases


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "subgraphs"), stream_cases())
async def test_stream_events_are_the_same(
    pair: Pair, name: str, subgraphs: bool, mode: str
) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(
        f"stream {name} {subgraphs}", lambda c: stream_sequence(c, seq, MODES, subgraphs)
    )
    what = f"{mode} events of {name}" + (" with subgraphs" if subgraphs else "")
    ours, official = of_mode(ours, mode), of_mode(official, mode)
    if mode == "updates":  # node outputs: README, "Differences" 8
        ours, official = settle_output_ids(ours, True), settle_output_ids(official, True)
    same(ours, official, what)


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_stream_event_names_are_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(
        f"stream {name} False", lambda c: stream_sequence(c, seq, MODES)
    )
    names = [[e[0] for e in run] for run in ours], [[e[0] for e in run] for run in official]
    same(names[0], names[1], f"event names (in order) of {name}")


@pytest.mark.parametrize("name", ["react_agent", "email_agent-approve", "swarm"])
async def test_legacy_messages_events_are_the_same(pair: Pair, name: str) -> None:
    seq = SEQUENCES[name]
    ours, official = await pair.both(
        f"stream {name} messages", lambda c: stream_sequence(c, seq, ["messages"])
    )
    same(ours, official, f"messages (legacy) events of {name}")


@pytest.mark.parametrize("name", ["react_agent", "enrichment"])
async def test_events_mode_is_the_same(pair: Pair, name: str) -> None:
    """``events`` (LangChain's astream_events v2): which events, in which order, of what."""
    seq = SEQUENCES[name]
    ours, official = await pair.both(
        f"stream {name} events", lambda c: stream_sequence(c, seq, ["events"])
    )

    def outline(runs: list[list[Any]]) -> list[list[Any]]:
        return [
            [
                [name, d.get("event"), d.get("name"), sorted(d.get("data") or {})]
                if isinstance(d, dict)
                else [name, d]
                for name, d in run
            ]
            for run in runs
        ]

    same(outline(ours), outline(official), f"events of {name}")


# --- the parts set aside: run metadata, checkpoint configs -------------------------------------


async def everything(pair: Pair, name: str) -> tuple[Any, Any]:
    """The wait and stream answers of sequence ``name``, ``(ours, official)``."""
    seq = SEQUENCES[name]
    waited = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    streamed = await pair.both(f"stream {name} False", lambda c: stream_sequence(c, seq, MODES))
    return [waited[0], streamed[0]], [waited[1], streamed[1]]


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_run_metadata_is_the_same(pair: Pair, name: str) -> None:
    """The run's metadata in stream events and checkpoints (``run_attempt``,
    ``langgraph_version``)."""
    ours, official = await everything(pair, name)
    rules = ASIDE["run metadata"]
    assert_same(pick(ours, rules), pick(official, rules), f"run metadata of {name}")


@pytest.mark.parametrize("name", list(SEQUENCES))
async def test_checkpoint_configs_are_the_same(pair: Pair, name: str) -> None:
    """Checkpoint configs in thread state, history and ``debug``/``checkpoints``/``tasks``
    events: which keys they have (``checkpoint_map``, ``checkpoint_id``) and where."""
    ours, official = await everything(pair, name)
    rules = ASIDE["checkpoint configs"]
    assert_same(pick(ours, rules), pick(official, rules), f"checkpoint configs of {name}")


# --- key order ---------------------------------------------------------------------------------


DATA_KEYS = {"args", "value", "info"}
"""Keys whose values are data of the graph or the client (tool call arguments, interrupt
values, extraction results), not an envelope the server builds."""


def key_orders(value: Any, path: str = "$", inside: bool = False) -> list[str]:
    """The key order of every dict with two keys or more inside :data:`DATA_KEYS` values,
    one ``path: k1, k2, ...`` line each."""
    out: list[str] = []
    if isinstance(value, dict):
        if inside and len(value) > 1:
            out.append(f"{path}: {', '.join(value)}")
        for k, v in value.items():
            out += key_orders(v, f"{path}.{k}", inside or k in DATA_KEYS)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += key_orders(v, f"{path}[{i}]", inside)
    return out


@pytest.mark.parametrize("name", ["deep_agent", "email_agent-edit", "enrichment"])
async def test_key_order_is_the_same(pair: Pair, name: str) -> None:
    """Data keeps its keys in the order the graph (or the client) gave them: tool call
    arguments, interrupt values, extraction results."""
    seq = SEQUENCES[name]
    ours, official = await pair.both(f"wait {name}", lambda c: wait_sequence(c, seq))
    for part in ("results", "state", "thread"):
        same(key_orders(ours[part]), key_orders(official[part]), f"key order ({part})")


# --- store -------------------------------------------------------------------------------------


async def store_scenario(c: LangGraphClient) -> dict[str, Any]:
    """Items put through the SDK into the indexed store, then read, searched and listed."""
    texts = {
        "hiking": "I like hiking in the mountains",
        "cat": "my cat is called Tom",
        "tea": "I drink green tea every morning",
    }
    for key, text in texts.items():
        await c.store.put_item(["parity", "user-1"], key, {"text": text, "tags": ["memo"]})
    await c.store.put_item(["parity", "user-2"], "cat", {"text": "no pets"}, index=False)

    def rounded(found: dict[str, Any]) -> list[Any]:
        # 6. the store's backend: scores to 6 places, indexed items only
        items = [i for i in found["items"] if "score" not in i or i["score"] is not None]
        for item in items:
            if item.get("score") is not None:
                item["score"] = round(item["score"], 6)
        return items

    return {
        "get": await c.store.get_item(["parity", "user-1"], "cat"),
        "search": rounded(await c.store.search_items(["parity"], query="what is my cat called")),
        "filter": rounded(
            await c.store.search_items(["parity", "user-1"], filter={"text": texts["tea"]})
        ),
        "list": sorted(
            rounded(await c.store.search_items(["parity"], limit=10)),
            key=lambda i: (i["namespace"], i["key"]),
        ),
        "namespaces": await c.store.list_namespaces(prefix=["parity"]),
        "missing": await answer(c.store.get_item(["parity", "user-1"], "nope")),
    }


@pytest.mark.parametrize("part", ["get", "search", "filter", "list", "namespaces", "missing"])
async def test_store_answers_are_the_same(pair: Pair, part: str) -> None:
    """The store with an index (``store.index`` embeddings from the stub): semantic search
    ranks the same items with the same scores."""
    ours, official = await pair.both("store", store_scenario)
    same(ours[part], official[part], f"store {part}")


# --- common mistakes ---------------------------------------------------------------------------

NIL = "00000000-0000-0000-0000-000000000000"


async def new_thread(c: LangGraphClient) -> str:
    return str((await c.threads.create())["thread_id"])


MISTAKES: dict[str, Callable[[LangGraphClient], Awaitable[Any]]] = {
    "unknown graph": lambda c: c.runs.create(None, "no_such_graph", input=prompts.INBOX),
    "graph id for an assistant id": lambda c: c.assistants.get("email_agent"),
    "run on a missing thread": lambda c: c.runs.create(NIL, "email_agent", input=prompts.INBOX),
    "state of a missing thread": lambda c: c.threads.get_state(NIL),
    "unknown stream mode": lambda c: c.runs.create(
        None, "email_agent", input=prompts.INBOX, stream_mode="nope"
    ),
    "input missing a key": lambda c: c.runs.wait(
        None, "enrichment", input={"topic": "x"}, raise_error=False
    ),
    "input with a wrong key": lambda c: c.runs.wait(
        None, "email_agent", input={"message": "hi"}, raise_error=False
    ),
    "update as an unknown node": lambda c: _update_as_unknown_node(c),
    "resume a thread that is not interrupted": lambda c: _resume_idle(c),
}


async def _update_as_unknown_node(c: LangGraphClient) -> Any:
    tid = await new_thread(c)
    await c.runs.wait(tid, "email_agent", input=prompts.INBOX)
    return await c.threads.update_state(tid, {"messages": []}, as_node="nope")


async def _resume_idle(c: LangGraphClient) -> Any:
    tid = await new_thread(c)
    await c.runs.wait(tid, "email_agent", input=prompts.INBOX)
    return await c.runs.wait(tid, "email_agent", command=APPROVE, raise_error=False)


def outcome(value: Any) -> Any:
    """An error's status (its wording is each server's own: README, "Differences" 7), or the
    answer itself."""
    if isinstance(value, dict) and set(value) == {"status", "body"}:
        return {"status": value["status"], "detail": "detail" in (value["body"] or {})}
    return value


@pytest.mark.parametrize("mistake", list(MISTAKES))
async def test_common_mistakes_get_the_same_answer(pair: Pair, mistake: str) -> None:
    ours, official = await pair.both(f"mistake {mistake}", lambda c: answer(MISTAKES[mistake](c)))
    same(outcome(ours), outcome(official), mistake)
