"""Core benchmark of ``lg-deploy dev`` (issue 2): latency, throughput, SSE and memory.

Run from the repository root: ``.venv/bin/python -m tests.bench.bench_core`` (``make bench``).
It starts ``lg-deploy dev`` on ``tests/graphs/langgraph.json`` with a temporary data folder
(the server is its own process; this process is only the load generator), warms up, and prints
one table of figures beside the issue's targets. Nothing is asserted: timings depend on the
machine and on what else runs on it.

Every request goes through the official ``langgraph_sdk`` async client. "Fresh thread" runs are
stateless runs (``runs.wait(None, …)``): one request per run, each on a new thread.

Options:

- ``--sql-stats``: count SQL statements per run with ``pg_stat_statements`` (the server is
  restarted once so that PostgreSQL preloads it) and print them, heaviest first.
- ``--api-key``: turn authentication on (tenant ``bench``, a ``developer`` key made with
  ``lg-deploy keys create``) and send the key with every request, as a keyed deployment's
  clients do; compare with a run without it for the cost of auth (issue 9: ≤ 1 ms on create
  p99 and wait p50).
- ``--profile DIR``: sample the server with py-spy (``pip install py-spy``) during the 1-node
  concurrency-32 load and the 5,000-event streams; raw stacks go to ``DIR``, the hottest
  functions are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import psycopg
import uvloop
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from shared.graphs.config import load_project_config
from shared.graphs.registry import GraphRegistry
from tests.support import (
    TEST_GRAPHS,
    Server,
    create_api_key,
    lg_deploy,
    postgres_dir,
    start,
)

CONCURRENCY = 32
STREAM_EVENTS = 5000
RATE = 200  # py-spy samples per second


@dataclass
class Counts:
    """Request counts of one bench run (``--quick`` divides them)."""

    create: int = 300
    e2e: int = 300
    echo: int = 2000
    ten: int = 640
    streams: int = 8

    def scaled(self, factor: int) -> Counts:
        """Counts divided by ``factor`` (at least one concurrency's worth of runs)."""
        return Counts(
            create=max(20, self.create // factor),
            e2e=max(20, self.e2e // factor),
            echo=max(CONCURRENCY, self.echo // factor),
            ten=max(CONCURRENCY, self.ten // factor),
            streams=max(2, self.streams // factor),
        )


@dataclass
class Report:
    """The printed table: ``(figure, measured, target)`` rows and notes under it."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, measured: str, target: str = "") -> None:
        """Add a row (and show it on stderr at once, as progress)."""
        self.rows.append((figure, measured, target))
        print(f"  {figure}: {measured}", file=sys.stderr, flush=True)

    def print(self) -> None:
        """Print the table and its notes on stdout."""
        header = ("figure", "measured", "target")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(3)]
        line = "  ".join("-" * w for w in widths)
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        print(line)
        for row in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        for note in self.notes:
            print(f"* {note}")


def ms(seconds: float) -> str:
    """``seconds`` as ``"12.3 ms"``."""
    return f"{seconds * 1000:.1f} ms"


def p50_p99(samples: list[float]) -> str:
    """``"p50 … / p99 …"`` of durations in seconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"{ms(statistics.median(samples))} / {ms(cuts[98])}"


def pg_uri(server: Server) -> str:
    """libpq URI of the server's embedded PostgreSQL, from its ``postmaster.pid``."""
    assert server.data_dir is not None
    lines = (server.data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    port, socket_dir = lines[3].strip(), lines[4].strip()
    return f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"


def postmaster(pgdata: Path) -> psutil.Process:
    """The postmaster of the PostgreSQL over ``pgdata`` (not a child of lg-deploy)."""
    pid = (pgdata / "postmaster.pid").read_text().split()[0]
    return psutil.Process(int(pid))


@dataclass(frozen=True)
class Tree:
    """A process and its children, measured together: ``name`` in the CPU notes, ``label`` in
    the peak RSS row."""

    name: str
    label: str
    pid: int


class Resources:
    """Peak memory and CPU time of process trees (the server's), the PostgreSQL over
    ``pgdata`` and this process.

    A thread samples the RSS of each tree every 50 ms and PostgreSQL's proportional set size
    (shared buffers counted once) every second.
    """

    def __init__(self, trees: list[Tree], pgdata: Path) -> None:
        self.trees = {tree: psutil.Process(tree.pid) for tree in trees}
        self.pg = postmaster(pgdata)
        self.peak_rss = dict.fromkeys(trees, 0)
        self.peak_pg_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree(self, root: psutil.Process) -> list[psutil.Process]:
        try:
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _sum(self, procs: list[psutil.Process], read: Callable[[psutil.Process], int]) -> int:
        total = 0
        for proc in procs:
            try:
                total += read(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _sample(self) -> None:
        tick = 0
        while not self._stop.wait(0.05):
            for tree, root in self.trees.items():
                rss = self._sum(self._tree(root), lambda p: p.memory_info().rss)
                self.peak_rss[tree] = max(self.peak_rss[tree], rss)
            tick += 1
            if tick % 20 == 0:
                pss = self._sum(self._tree(self.pg), lambda p: p.memory_full_info().pss)
                self.peak_pg_pss = max(self.peak_pg_pss, pss)

    def start(self) -> None:
        """Start sampling memory."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling memory (CPU times stay readable)."""
        self._stop.set()
        self._thread.join()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: one entry per tree (by name), ``postgres`` (postmaster, its live
        backends and reaped ones), ``client`` (this load generator) and ``others`` (every other
        process on the machine)."""

        def own(p: psutil.Process) -> float:
            t = p.cpu_times()
            return float(t.user + t.system)

        def reaped(p: psutil.Process) -> float:
            t = p.cpu_times()
            return float(t.children_user + t.children_system)

        used = {t.name: sum(own(p) for p in self._tree(root)) for t, root in self.trees.items()}
        used["postgres"] = sum(own(p) for p in self._tree(self.pg)) + reaped(self.pg)
        used["client"] = own(psutil.Process())
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - machine.iowait
        return {**used, "others": busy - sum(used.values())}

    @contextmanager
    def cpu_share(self, report: Report, label: str, units: int, unit: str) -> Iterator[None]:
        """Note each party's CPU time per unit of work (``units`` of ``unit`` done in the
        ``with`` block) and its cores busy over the block."""
        before, t0 = self.cpu(), time.perf_counter()
        yield
        after, wall = self.cpu(), time.perf_counter() - t0
        used = {k: after[k] - before[k] for k in after}
        per_unit = ", ".join(
            f"{k} {v * 1000 / units:.3f} ms" for k, v in used.items() if k != "others"
        )
        cores = ", ".join(f"{k} {max(0.0, v) / wall:.2f}" for k, v in used.items())
        report.notes.append(f"{label}: CPU per {unit}: {per_unit}; cores busy: {cores}")


class Profiler:
    """py-spy sampling the server while a ``with`` block runs; raw stacks go to ``out``."""

    def __init__(self, out: Path | None, pid: int) -> None:
        self.out, self.pid = out, pid
        self.files: list[tuple[str, Path, float]] = []

    @contextmanager
    def record(self, name: str) -> Iterator[None]:
        """Sample the server into ``<out>/<name>.txt`` during the block (no-op without out)."""
        if self.out is None:
            yield
            return
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / f"{name}.txt"
        spy = Path(sys.executable).with_name("py-spy")
        args = [str(spy), "record", "--pid", str(self.pid), "--rate", str(RATE), "--gil"]
        proc = subprocess.Popen(
            [*args, "--format", "raw", "--output", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # let py-spy attach
        t0 = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - t0
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
            self.files.append((name, path, seconds))

    def print(self, top: int = 25) -> None:
        """Print the hottest functions of every recorded block."""
        for name, path, seconds in self.files:
            if path.exists():
                print_profile(name, path, seconds, top)


def print_profile(name: str, path: Path, seconds: float, top: int) -> None:
    """The hottest functions of a py-spy raw file: self and inclusive share of samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    busy = total / (seconds * RATE)
    print(f"\n## py-spy --gil: {name} ({total} samples in {seconds:.1f} s, GIL held {busy:.0%})")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"top {top} by {title} time:")
        for frame, count in counter.most_common(top):
            print(f"  {100 * count / total:5.1f}%  {frame}")


def _frame_name(frame: str) -> str:
    """``"function (path/to/file.py:12)"`` → ``"function (file.py)"``."""
    func, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(file).parts
    short = "/".join(parts[-2:]) if parts else file
    return f"{func} ({short})"


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """``(seconds, result)`` of awaiting ``call()``."""
    t0 = time.perf_counter()
    result = await call()
    return time.perf_counter() - t0, result


async def create_latency(client: LangGraphClient, n: int) -> list[float]:
    """Latency of ``POST /threads/{id}/runs`` (background run of ``echo``) on pre-made threads;
    waits for the runs to end afterwards."""
    threads = [(await client.threads.create())["thread_id"] for _ in range(n)]
    samples, runs = [], []
    for thread_id in threads:
        seconds, run = await timed(
            partial(client.runs.create, thread_id, "echo", input={"items": []})
        )
        samples.append(seconds)
        runs.append((thread_id, run["run_id"]))
    for thread_id, run_id in runs:
        await client.runs.join(thread_id, run_id)
    return samples


async def wait_echo(client: LangGraphClient, graph: str = "echo") -> Any:
    """One run to its end on a fresh (stateless) thread; raises if it did not succeed."""
    result = await client.runs.wait(None, graph, input={"items": []})
    if not isinstance(result, dict) or not result.get("items"):
        raise RuntimeError(f"run of {graph} did not succeed: {result!r}")
    return result


async def e2e_latency(client: LangGraphClient, n: int) -> list[float]:
    """``runs.wait`` latency at concurrency 1 (``echo``, fresh thread each)."""
    return [(await timed(lambda: wait_echo(client)))[0] for _ in range(n)]


async def concurrent(total: int, job: Callable[[], Awaitable[Any]]) -> float:
    """Run ``job`` ``total`` times by :data:`CONCURRENCY` workers; returns jobs per second."""
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await job()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return total / (time.perf_counter() - t0)


@dataclass
class StreamFigures:
    """One stream: seconds to its first event and first custom event, custom events/s."""

    first_event: float
    first_custom: float
    events_per_second: float


async def stream_emitter(client: LangGraphClient) -> StreamFigures:
    """One ``emitter`` run streamed with ``stream_mode="custom"``; times from the request."""
    t0 = time.perf_counter()
    first = first_custom = last = 0.0
    count = 0
    async for part in client.runs.stream(
        None,
        "emitter",
        input={"items": []},
        stream_mode="custom",
        config={"configurable": {"count": STREAM_EVENTS}},
    ):
        now = time.perf_counter() - t0
        first = first or now
        if part.event == "custom":
            first_custom = first_custom or now
            last = now
            count += 1
    if count != STREAM_EVENTS:
        raise RuntimeError(f"stream gave {count} custom events, not {STREAM_EVENTS}")
    return StreamFigures(first, first_custom, count / last)


async def baseline(
    uri: str, graph_id: str, total: int, resources: Resources, report: Report
) -> None:
    """Latency at concurrency 1 and runs/s at concurrency 32 of ``graph_id`` run in this
    process with ``AsyncPostgresSaver`` (no server), each on a new thread id, on the server's
    PostgreSQL."""
    registry = GraphRegistry.load(load_project_config(TEST_GRAPHS))
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    async with AsyncConnectionPool(
        uri, min_size=CONCURRENCY, max_size=CONCURRENCY, kwargs=kwargs, open=False
    ) as pool:
        await pool.wait()
        saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        use = registry.use(graph_id, "threads.create_run", {}, store=None, checkpointer=saver)
        async with use as graph:

            async def job() -> None:
                config = RunnableConfig(configurable={"thread_id": str(uuid.uuid4())})
                await graph.ainvoke({"items": []}, config)

            samples = [(await timed(job))[0] for _ in range(total // 10)]
            report.add(f"baseline in-process latency p50 / p99, {graph_id} (c=1)", p50_p99(samples))
            label = f"baseline {graph_id} at c={CONCURRENCY}"
            with resources.cpu_share(report, label, total, "run"):
                rate = await concurrent(total, job)
    report.add(f"baseline in-process runs/s, {graph_id} at c={CONCURRENCY}", f"{rate:.0f}")


async def warm_up(client: LangGraphClient) -> None:
    """32 concurrent runs of ``echo`` and of ``ten``, then one ``emitter`` stream."""
    for graph in ("echo", "ten"):
        await asyncio.gather(*(wait_echo(client, graph) for _ in range(CONCURRENCY)))
    await stream_emitter(client)


@dataclass
class Bench:
    """One bench session against a started server: where figures and CPU notes go."""

    client: LangGraphClient
    counts: Counts
    profiler: Profiler
    resources: Resources
    report: Report = field(default_factory=Report)

    async def latencies(self) -> None:
        """HTTP floor, run create and runs/wait latencies, one request at a time."""
        samples = [(await timed(lambda: self.client.http.get("/ok")))[0] for _ in range(200)]
        self.report.add("GET /ok latency p50 / p99 (HTTP floor)", p50_p99(samples))
        samples = await create_latency(self.client, self.counts.create)
        self.report.add("run create latency p50 / p99", p50_p99(samples), "p99 <= 10 ms")
        samples = await e2e_latency(self.client, self.counts.e2e)
        self.report.add("runs/wait e2e latency p50 / p99 (c=1)", p50_p99(samples), "p50 <= 10 ms")

    async def throughput(self, graph: str, total: int, target: int) -> None:
        """Completed runs/s of ``graph`` at concurrency 32, with CPU per run."""
        label = f"{graph} at c={CONCURRENCY}"
        with self.resources.cpu_share(self.report, label, total, "run"):
            with self.profiler.record(graph):
                rate = await concurrent(total, lambda: wait_echo(self.client, graph))
        self.report.add(f"completed runs/s, {label}", f"{rate:.0f}", f">= {target}")

    async def streams(self) -> None:
        """First-event latencies and events/s of the 5,000-event ``emitter`` streams."""
        n = self.counts.streams
        with self.resources.cpu_share(self.report, "emitter", n * STREAM_EVENTS, "event"):
            with self.profiler.record("emitter"):
                figures = [await stream_emitter(self.client) for _ in range(n)]
        first = statistics.median(f.first_event for f in figures)
        first_custom = statistics.median(f.first_custom for f in figures)
        rate = statistics.median(f.events_per_second for f in figures)
        self.report.add("SSE time to first event (metadata)", ms(first), "<= 10 ms")
        self.report.add("SSE time to first custom event", ms(first_custom), "<= 10 ms")
        self.report.add(
            f"SSE custom events/s ({STREAM_EVENTS}-event run)", f"{rate:,.0f}", ">= 40,000"
        )

    def memory(self) -> None:
        """Peak memory seen while the server was under load."""
        for tree, peak in self.resources.peak_rss.items():
            self.report.add(f"peak RSS, {tree.label}", f"{peak / 2**20:.0f} MiB")
        peak_pss = self.resources.peak_pg_pss
        self.report.add("peak PSS, embedded PostgreSQL", f"{peak_pss / 2**20:.0f} MiB")


async def bench(
    url: str,
    database_url: str,
    resources: Resources,
    counts: Counts,
    profiler: Profiler,
    api_key: str | None = None,
) -> Report:
    """Every figure of the issue's benchmark against the API at ``url`` whose PostgreSQL is
    ``database_url`` (the baseline runs on it); ``resources`` watches the server's processes.
    ``api_key``: sent with every request (``None``: an open deployment, no key at all)."""
    resources.start()
    client = get_client(url=url, api_key=api_key)
    run = Bench(client, counts, profiler, resources)
    try:
        await warm_up(client)
        await run.latencies()
        await run.throughput("echo", counts.echo, 200)
        await run.throughput("ten", counts.ten, 45)
        await run.streams()
    finally:
        await client.aclose()
        resources.stop()
    run.memory()
    for graph, total in (("echo", counts.echo), ("ten", counts.ten)):
        await baseline(database_url, graph, total, resources, run.report)
    run.report.notes += [
        f"runs on fresh threads are stateless: runs.wait(None, graph), c={CONCURRENCY} workers"
        " sharing one langgraph_sdk client",
        "create latency: runs.create(thread_id, 'echo') on threads made beforehand, c=1",
        f"SSE figures: median of {counts.streams} runs.stream(None, 'emitter',"
        " stream_mode='custom'); events/s = custom events / time to the last one",
        "baseline: the same graphs in this process, AsyncPostgresSaver on the server's"
        f" PostgreSQL (pool of {CONCURRENCY}), graph.ainvoke on a new thread id each",
        "CPU notes: client = this load generator (for the baseline: the graphs themselves);"
        " others = every other process on the machine",
    ]
    if profiler.out is not None:
        run.report.notes.append("py-spy was sampling the server: its figures are slowed down")
    run.report.notes.append(
        "auth: a developer key of tenant 'bench' on every request" if api_key else "auth: open"
    )
    return run.report


SQL_STATS = """
    SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'postgres')
    ORDER BY calls DESC"""


async def sql_stats(make_server: Callable[[], Server], counts: Counts) -> None:
    """Print SQL statements per run (pg_stat_statements) for echo at c=1 and c=32, ten at c=32."""
    server = make_server()
    with psycopg.connect(pg_uri(server), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        conn.execute("ALTER SYSTEM SET pg_stat_statements.track_utility = on")
    server.stop()
    server = make_server()
    client = get_client(url=server.url)
    try:
        with psycopg.connect(pg_uri(server), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SET pg_stat_statements.track = 'none'")
            await warm_up(client)
            for graph, total, workers in (
                ("echo", counts.e2e, 1),
                ("echo", counts.echo // 4, CONCURRENCY),
                ("ten", counts.ten // 2, CONCURRENCY),
            ):
                conn.execute("SELECT pg_stat_statements_reset()")
                if workers == 1:
                    for _ in range(total):
                        await wait_echo(client, graph)
                else:
                    await concurrent(total, partial(wait_echo, client, graph))
                await asyncio.sleep(6)  # a sweep (every 5 s) belongs to the load too
                rows = conn.execute(SQL_STATS).fetchall()
                calls = sum(r[0] for r in rows)
                print(f"\n## SQL per run: {graph}, c={workers}, {total} runs + 6 s idle")
                print(f"{calls / total:.1f} statements per run")
                print(" calls/run  mean ms  statement")
                for n, exec_ms, _, query in rows:
                    print(f"{n / total:10.2f} {exec_ms / max(n, 1):8.3f}  {query[:150]}")
    finally:
        await client.aclose()
        server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m tests.bench.bench_core [--quick] [--sql-stats] [--profile D]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests")
    parser.add_argument("--sql-stats", action="store_true", help="SQL statements per run")
    parser.add_argument("--profile", type=Path, help="py-spy the server; raw stacks here")
    parser.add_argument("--api-key", action="store_true", help="auth on: a key on every request")
    args = parser.parse_args(argv)
    counts = Counts().scaled(4) if args.quick else Counts()
    if args.profile:
        counts = replace(counts, streams=counts.streams * 3)  # enough samples of the stream
    load = os.getloadavg()[0]
    with postgres_dir("bench") as base:

        def make_server() -> Server:
            log = base / "server.log"
            return start(
                "dev", data_dir=base / "data", log=log, env={"LG_DEPLOY_LOG_LEVEL": "WARNING"}
            )

        if args.sql_stats:
            uvloop.run(sql_stats(make_server, counts))
            return
        server = make_server()
        try:
            profiler = Profiler(args.profile, server.proc.pid)
            assert server.data_dir is not None
            tree = Tree("server", "lg-deploy process tree", server.proc.pid)
            resources = Resources([tree], server.data_dir / "pgdata")
            key = None
            if args.api_key:
                assert lg_deploy(server.data_dir, "tenants", "create", "bench").returncode == 0
                key = create_api_key(server.data_dir, "bench", "developer")
            report = uvloop.run(bench(server.url, pg_uri(server), resources, counts, profiler, key))
        finally:
            server.stop()
    print(f"\nlg-deploy dev, {os.cpu_count()} cores, load average {load:.2f} at start")
    report.print()
    profiler.print()


if __name__ == "__main__":
    main()
