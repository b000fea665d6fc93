"""Instructions per run that tracing adds: the cost of issue 10's tracing as a figure that the
machine's pace does not move.

Run from the repository root: ``.venv/bin/python -m tests.bench.bench_tracing_instructions
[--runs N] [--baseline COMMIT]`` (about 2 minutes per server with the default 300 runs). On a
shared 2-core virtual machine, runs/s and CPU time per run of the same build move by 5 % to
15 % between minutes (``tests/bench/bench_tracing.py`` pairs and repeats rounds against it);
the instructions a process executes do not: this bench runs each ``lg-deploy dev`` server
under valgrind's callgrind (``--instr-atstart=no``, so start-up is not counted) and counts
the instructions of the server process alone (all its threads, among them the span exporter;
not PostgreSQL, not Jaeger) while it serves, with :data:`~tests.bench.bench_core.CONCURRENCY`
concurrent clients through the official ``langgraph_sdk``:

- ``echo`` (1 node): ``--runs`` runs;
- ``ten`` (10 nodes): a quarter as many;
- ``react_agent`` of the ecosystem project, asked for one tool call (3 nodes, 2 model calls over
  HTTP to the local model stub, 1 tool call): a third as many.

Servers, as in ``bench_tracing``: tracing off; on (every trace sampled, exported to a real
Jaeger v2); on with nothing sampled (``OTEL_TRACES_SAMPLER=always_off``); with ``--baseline``,
that commit's code. Each server is counted on its own (counts do not depend on what else runs).
Under callgrind a server is some 50 times slower, so its background loops (heartbeats, sweeps)
run more often per run than at full speed: alike for every server, a little in every figure.

Instructions are not time: code that runs more instructions per cycle (protobuf's C encoder)
weighs more here than in seconds. The figures say where the work goes and whether a change
removed some, repeatably; the runs/s that the issue's target names are ``bench_tracing``'s.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import uvloop
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.bench.bench_core import CONCURRENCY, concurrent, wait_echo, warm_up
from tests.bench.bench_tracing import cell, checkout, dev, setting, table, wait_agent
from tests.support import ROOT, Server

LOADS: dict[str, tuple[int, Callable[[LangGraphClient], Awaitable[object]]]] = {
    "echo": (1, partial(wait_echo, graph="echo")),
    "ten": (4, partial(wait_echo, graph="ten")),
    "agent": (3, wait_agent),
}
"""Per load: the divisor of ``--runs`` giving its run count, and one run of it."""


@dataclass
class Counted:
    """A server running under callgrind, counting off until :meth:`count` turns it on."""

    name: str
    server: Server
    out: Path
    """callgrind's output file: each dump writes ``<out>.<n>``, n = 1, 2, …"""
    per_run: dict[str, float] = field(default_factory=dict)
    """Instructions per run, by load."""

    def control(self, *args: str) -> None:
        """``callgrind_control ARGS`` on the server's process (raises if it fails)."""
        command = ["callgrind_control", *args, str(self.server.proc.pid)]
        subprocess.run(command, check=True, capture_output=True)

    async def count(self, runs: int) -> None:
        """Warm up, then count each of :data:`LOADS` on its own (zero, load, dump)."""
        client = get_client(url=self.server.url, timeout=600)
        try:
            await warm_up(client)
            await concurrent(CONCURRENCY, partial(wait_agent, client))
            self.control("--instr=on")
            for dump, (load, (divisor, job)) in enumerate(LOADS.items(), start=1):
                load_runs = runs // divisor
                self.control("--zero")
                await concurrent(load_runs, partial(job, client))
                self.control("--dump")
                self.per_run[load] = self.total(dump) / load_runs
        finally:
            await client.aclose()

    def total(self, number: int) -> int:
        """The instructions of dump ``number`` (the ``totals:`` line of ``<out>.<number>``)."""
        for line in Path(f"{self.out}.{number}").read_text().splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1])
        raise RuntimeError(f"no totals in {self.out}.{number}")


@contextmanager
def counted(name: str, code: Path, env: dict[str, str], config: Path) -> Iterator[Counted]:
    """:func:`tests.bench.bench_tracing.dev` of ``code`` under callgrind, counting off;
    ``name`` is the server's name in the report."""
    slug = "".join(c if c.isalnum() else "-" for c in name)
    with tempfile.TemporaryDirectory(prefix=f"lgd-callgrind-{slug}-") as folder:
        out = Path(folder) / "callgrind.out"
        wrapper = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
        ]
        with dev(slug, code, env, config, wrapper, ready_timeout=600) as server:
            yield Counted(name, server, out)


def report(subjects: list[Counted], runs: int) -> None:
    """Millions of instructions per run by load and server, and the change against the
    first (tracing off)."""
    off = subjects[0]
    print(f"\nserver instructions per run (millions), {CONCURRENCY} clients")
    rows = {
        f"{load} ({runs // divisor} runs)": [
            cell(
                f"{s.per_run[load] / 1e6:.2f}",
                None if s is off else (s.per_run[load] / off.per_run[load] - 1) * 100,
            )
            for s in subjects
        ]
        for load, (divisor, _) in LOADS.items()
    }
    table("load", [s.name for s in subjects], rows, 24)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tests.bench.bench_tracing_instructions [--runs N]
    [--baseline COMMIT]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="echo runs (300)")
    parser.add_argument("--baseline", help="also count this commit's code (tracing absent)")
    args = parser.parse_args(argv)
    subjects: list[Counted] = []
    with ExitStack() as stack:
        shared = stack.enter_context(setting())
        servers = [
            ("tracing off", ROOT, shared.model),
            ("tracing on", ROOT, shared.traced),
            ("on, none sampled", ROOT, shared.traced | {"OTEL_TRACES_SAMPLER": "always_off"}),
        ]
        if args.baseline:
            baseline = stack.enter_context(checkout(args.baseline))
            servers.append((f"at {args.baseline[:8]}", baseline, shared.model))
        for name, code, env in servers:
            with counted(name, code, env, shared.project) as subject:
                uvloop.run(subject.count(args.runs))
            subjects.append(subject)
            print(
                f"{name}: " + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in subject.per_run.items()),
                flush=True,
            )
    report(subjects, args.runs)


if __name__ == "__main__":
    main()
