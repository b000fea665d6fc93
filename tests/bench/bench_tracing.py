"""What tracing costs (issue 10: ≤ 10 % on runs/s and end-to-end latency with tracing on, no
measurable change with it off).

Run from the repository root: ``.venv/bin/python -m tests.bench.bench_tracing [--rounds N]
[--unsampled] [--baseline COMMIT]``. It starts a real Jaeger v2
(``tests/observability/jaeger.py``), the local OpenAI-compatible model stub of the ecosystem
tests and two ``lg-deploy dev`` servers on the test graphs ``echo`` and ``ten`` and the
ecosystem project's ``react_agent`` (:data:`GRAPHS`), each on its own embedded PostgreSQL: one
without any ``OTEL_*`` variable (tracing off) and one exporting every span to
Jaeger (``OTEL_EXPORTER_OTLP_ENDPOINT``, default batching, every trace sampled). With
``--unsampled`` one more server traces but samples nothing (``OTEL_TRACES_SAMPLER=always_off``):
what the instrumentation costs when no span is recorded. With ``--baseline COMMIT`` one more
server runs that commit's code (a detached worktree), to compare "off" with the code before
tracing existed. After a warm-up, each round takes each measurement
of every server in turn (so a busy moment of the machine hits all of them alike; every other
round backwards); the measurements, through the official ``langgraph_sdk``:

- ``runs.wait`` end-to-end latency at concurrency 1 (``echo``, a fresh thread each), p50 / p99;
- ``runs.create`` latency on threads made beforehand, p50 / p99;
- completed runs/s of ``echo`` (1 node) and ``ten`` (10 nodes) with 32 concurrent clients;
- ``react_agent`` (``create_react_agent``: the model asks for one tool call, then answers, so
  3 nodes, 2 model calls over HTTP to the stub, 1 tool call): ``runs.wait`` latency at
  concurrency 1, p50, and completed runs/s with 32 concurrent clients. The stub answers at
  once, so this load is bound by the server's CPU as the others are.

It prints the medians of the rounds per server and the change against "off": the median of
the rounds' own changes (each figure against the same round's "off"), as the machine's pace
drifts between rounds more than tracing moves it. Nothing is asserted: timings depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import uvloop
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.bench.bench_core import (
    CONCURRENCY,
    concurrent,
    create_latency,
    e2e_latency,
    timed,
    wait_echo,
    warm_up,
)
from tests.ecosystem.conftest import PROJECT, running_llm_stub
from tests.observability.jaeger import jaeger
from tests.support import (
    LG_DEPLOY,
    ROOT,
    TEST_GRAPHS,
    Server,
    free_port,
    launch,
    postgres_dir,
    wait_ready,
)

FIGURES = (
    "runs/wait p50 (ms)",
    "runs/wait p99 (ms)",
    "create p50 (ms)",
    "create p99 (ms)",
    f"echo runs/s, c={CONCURRENCY}",
    f"ten runs/s, c={CONCURRENCY}",
    "agent runs/wait p50 (ms)",
    f"agent runs/s, c={CONCURRENCY}",
)

GRAPHS = {
    "echo": f"{TEST_GRAPHS.parent / 'graphs.py'}:echo",
    "ten": f"{TEST_GRAPHS.parent / 'graphs.py'}:ten",
    "emitter": f"{TEST_GRAPHS.parent / 'graphs.py'}:emitter",
    "react_agent": f"{PROJECT / 'react_agent.py'}:graph",
}
"""The graphs the servers serve (absolute paths, in a ``langgraph.json`` of the bench's own;
``emitter`` for the warm-up)."""

AGENT_INPUT = {
    "messages": [{"role": "user", "content": 'CALL get_weather {"city": "Paris"}\nSAY done'}]
}
"""A ``react_agent`` input for which the stub calls ``get_weather`` once, then says ``done``."""


@dataclass
class Subject:
    """One server under test and its figures, one list of samples per figure (one per round)."""

    name: str
    server: Server
    figures: dict[str, list[float]] = field(default_factory=dict)

    def add(self, figure: str, value: float) -> None:
        self.figures.setdefault(figure, []).append(value)

    def median(self, figure: str) -> float:
        return statistics.median(self.figures[figure])

    def change(self, figure: str, base: Subject) -> float:
        """The median of this subject's per-round changes against ``base``, in percent."""
        pairs = zip(self.figures[figure], base.figures[figure], strict=True)
        return (statistics.median(mine / theirs for mine, theirs in pairs) - 1) * 100


def write_project(folder: Path) -> Path:
    """A ``langgraph.json`` in ``folder`` serving :data:`GRAPHS`; returns its path."""
    path = folder / "langgraph.json"
    dependencies = [str(TEST_GRAPHS.parent), str(PROJECT)]
    path.write_text(json.dumps({"dependencies": dependencies, "graphs": GRAPHS}))
    return path


@contextmanager
def dev(
    name: str,
    code: Path,
    env: dict[str, str],
    config: Path,
    wrapper: Sequence[str] = (),
    ready_timeout: float = 60.0,
) -> Iterator[Server]:
    """``lg-deploy dev`` of the code at ``code`` on its own embedded PostgreSQL, on the graphs
    of ``config``, with ``env`` added (logs at WARNING), its command line prefixed by
    ``wrapper`` (say, valgrind's), ready within ``ready_timeout`` seconds; stopped on exit."""
    with postgres_dir(f"bench-{name}") as base:
        port = free_port()
        args = [*wrapper, *LG_DEPLOY, "dev", "--config", str(config), "--port", str(port)]
        args += ["--data-dir", str(base / "data")]
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "PYTHONUNBUFFERED": "1",
            "LG_DEPLOY_LOG_LEVEL": "WARNING",
            **env,
        }
        server = launch(args, cwd=code, env=full_env, log=base / "server.log", port=port)
        try:
            wait_ready(server, ready_timeout)
            yield server
        finally:
            server.stop()


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """A detached worktree of ``commit`` of this repository, removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix="lgd-bench-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), commit], cwd=ROOT, check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT)


async def latencies(client: LangGraphClient, subject: Subject, e2e: int, create: int) -> None:
    """The latency figures of one round: ``e2e`` waited runs, then ``create`` creations."""
    samples = sorted(await e2e_latency(client, e2e))
    subject.add(FIGURES[0], statistics.median(samples) * 1000)
    subject.add(FIGURES[1], samples[int(len(samples) * 0.99) - 1] * 1000)
    samples = sorted(await create_latency(client, create))
    subject.add(FIGURES[2], statistics.median(samples) * 1000)
    subject.add(FIGURES[3], samples[int(len(samples) * 0.99) - 1] * 1000)


async def wait_agent(client: LangGraphClient) -> None:
    """One ``react_agent`` run of :data:`AGENT_INPUT` to its end on a fresh (stateless) thread;
    raises unless it answered ``done``."""
    result = await client.runs.wait(None, "react_agent", input=AGENT_INPUT)
    if not isinstance(result, dict) or result["messages"][-1]["content"] != "done":
        raise RuntimeError(f"react_agent run did not answer: {result!r}")


async def agent_latency(client: LangGraphClient, subject: Subject, n: int) -> None:
    """The agent's latency figure of one round: ``n`` runs one after another, p50."""
    samples = [(await timed(lambda: wait_agent(client)))[0] for _ in range(n)]
    subject.add(FIGURES[6], statistics.median(samples) * 1000)


async def bench(subjects: list[Subject], rounds: int, scale: int) -> None:
    """Warm every server up, then ``rounds`` rounds. A round takes each measurement (the
    latencies, ``echo`` runs/s, ``ten`` runs/s, the agent's two) of every server in turn
    before the next one, so that the figures compared are taken seconds apart; every other
    round goes through the servers backwards, so that none always follows the same one."""
    clients = {subject.name: get_client(url=subject.server.url) for subject in subjects}
    try:
        for client in clients.values():
            await warm_up(client)
            await concurrent(CONCURRENCY, partial(wait_agent, client))
        for number in range(rounds):
            order = subjects if number % 2 == 0 else subjects[::-1]
            for subject in order:
                await latencies(clients[subject.name], subject, 200 // scale, 200 // scale)
            for figure, graph, total in ((FIGURES[4], "echo", 1000), (FIGURES[5], "ten", 320)):
                for subject in order:
                    client = clients[subject.name]
                    job = partial(wait_echo, client, graph)
                    subject.add(figure, await concurrent(total // scale, job))
            for subject in order:
                client = clients[subject.name]
                await agent_latency(client, subject, 50 // scale)
                subject.add(FIGURES[7], await concurrent(240 // scale, partial(wait_agent, client)))
            print(f"  round {number + 1} done", flush=True)
    finally:
        for client in clients.values():
            await client.aclose()


def report(subjects: list[Subject], rounds: int) -> None:
    """The medians per server and the paired change against the first (tracing off)."""
    off = subjects[0]
    print(f"\nmedians of {rounds} interleaved rounds, {os.cpu_count()} cores")
    rows = {
        figure: [
            cell(f"{s.median(figure):.1f}", None if s is off else s.change(figure, off))
            for s in subjects
        ]
        for figure in FIGURES
    }
    table("figure", [s.name for s in subjects], rows, 22)


def cell(value: str, change: float | None) -> str:
    """A table cell: ``value``, then `` (+x.y %)`` unless ``change`` is None (the base)."""
    return value + ("" if change is None else f" ({change:+.1f} %)")


def table(first: str, names: Sequence[str], rows: dict[str, list[str]], width: int) -> None:
    """Print a table: a header of ``first`` and ``names``, then each row's label and cells,
    the cells right-aligned in ``width`` characters."""
    print(f"{first:28}" + "".join(f"{n:>{width}}" for n in names))
    for label, cells in rows.items():
        print(f"{label:28}" + "".join(f"{c:>{width}}" for c in cells))


@dataclass(frozen=True)
class Setting:
    """What every bench server shares: the model stub's environment (``model``), the same
    plus an OTLP export of every span to Jaeger (``traced``), the bench's ``langgraph.json``."""

    model: dict[str, str]
    traced: dict[str, str]
    project: Path


@contextmanager
def setting() -> Iterator[Setting]:
    """Start a real Jaeger v2 and the model stub, write the project; all stopped on exit."""
    with ExitStack() as stack:
        backend = stack.enter_context(jaeger())
        model = stack.enter_context(running_llm_stub()).env
        project = write_project(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        export = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": backend.otlp,
            "OTEL_SERVICE_NAME": "lg-deploy-bench",
        }
        yield Setting(model, model | export, project)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tests.bench.bench_tracing [--rounds N] [--quick] [--unsampled]
    [--baseline COMMIT]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests")
    parser.add_argument("--unsampled", action="store_true", help="also trace, sampling none")
    parser.add_argument("--baseline", help="also serve this commit's code (tracing absent)")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        shared = stack.enter_context(setting())
        model, traced, project = shared.model, shared.traced, shared.project
        subjects = [
            Subject("tracing off", stack.enter_context(dev("off", ROOT, model, project))),
            Subject("tracing on", stack.enter_context(dev("on", ROOT, traced, project))),
        ]
        if args.unsampled:
            unsampled = traced | {"OTEL_TRACES_SAMPLER": "always_off"}
            server = stack.enter_context(dev("unsampled", ROOT, unsampled, project))
            subjects.append(Subject("on, none sampled", server))
        if args.baseline:
            code = stack.enter_context(checkout(args.baseline))
            subjects.append(
                Subject(
                    f"at {args.baseline[:8]}",
                    stack.enter_context(dev("base", code, model, project)),
                )
            )
        uvloop.run(bench(subjects, args.rounds, 4 if args.quick else 1))
    report(subjects, args.rounds)


if __name__ == "__main__":
    main()
